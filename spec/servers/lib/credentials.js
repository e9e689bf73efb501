'use strict'
// The credentials this server accepts: those given on the command line, and
// the temporary ones it issued itself (STS, instance metadata, container).

const crypto = require('crypto')

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

// A random string of `length` characters taken from `alphabet`.
function randomText(alphabet, length) {
  const bytes = crypto.randomBytes(length)
  let text = ''
  for (let i = 0; i < length; i++) text += alphabet[bytes[i] % alphabet.length]
  return text
}

class CredentialStore {
  // Starts with the static credentials; `durationSeconds` is the life of issued ones.
  constructor(staticCredentials, durationSeconds) {
    this.durationSeconds = durationSeconds
    this.byAccessKey = new Map()
    for (const c of staticCredentials) {
      this.byAccessKey.set(c.accessKeyId, Object.assign({ source: 'static', expiresAt: null }, c))
    }
  }

  // The credentials of an access key id, or undefined.
  lookup(accessKeyId) {
    return this.byAccessKey.get(accessKeyId)
  }

  // Issues temporary credentials, remembered so that requests signed with them pass.
  issue(source, durationSeconds) {
    const seconds = this.durationSeconds != null ? this.durationSeconds : durationSeconds
    const credentials = {
      accessKeyId: 'ASIA' + randomText(ALNUM, 16),
      secretAccessKey: crypto.randomBytes(30).toString('base64'),
      sessionToken: 'IQoJ' + crypto.randomBytes(96).toString('base64'),
      expiresAt: Date.now() + seconds * 1000,
      source,
    }
    this.byAccessKey.set(credentials.accessKeyId, credentials)
    return credentials
  }
}

// Formats an expiry as AWS does: ISO-8601 UTC without milliseconds.
function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

module.exports = { CredentialStore, isoSeconds }
