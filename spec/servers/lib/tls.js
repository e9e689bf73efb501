'use strict'
// A throwaway certificate authority and a server certificate for
// 127.0.0.1 and localhost, made with the openssl command in a private
// temporary folder that is removed when the process exits.

const { execFileSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

// Runs openssl with `args`, raising with its stderr when it fails.
function openssl(args) {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const detail = err.stderr ? err.stderr.toString().trim() : err.message
    throw new Error(`openssl ${args[0]} failed: ${detail}`)
  }
}

// Makes the CA and the server certificate; returns their file names.
function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamquery-tls-'))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  const file = (name) => path.join(dir, name)
  openssl(['req', '-x509', ...EC_KEY, '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '2', '-subj', '/CN=StreamQuery throwaway test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  openssl(['req', '-new', ...EC_KEY, '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', '/CN=localhost'])
  fs.writeFileSync(file('server.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid,issuer',
    '',
  ].join('\n'))
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'),
    '-CAkey', file('ca.key'), '-set_serial', '0x' + Date.now().toString(16), '-days', '2',
    '-extfile', file('server.ext'), '-out', file('server.pem')])
  return { dir, caFile: file('ca.pem'), keyFile: file('server.key'), certFile: file('server.pem') }
}

module.exports = { makeCertificates }
