'use strict'
// Runs the signature check of lib/signature.js over the signed requests of
// the SigV4 test suite (../../shared/testdata/sigv4/v4: the path-normalizing
// cases whose path could travel as it is written).  Each must pass as
// signed, and fail once its body or a signed header is changed, with a
// wrong secret, more than 5 minutes late, and for another region.
// Prints one line per failing case, then "checked N vectors, F failed";
// exits 1 when any failed.
// usage: node test/sigv4_vectors.js DIR

const fs = require('fs')
const path = require('path')
const { verify } = require('../lib/signature')
const { CredentialStore } = require('../lib/credentials')

// Parses an HTTP/1.1 request written as text into a request-like object.
function parseRequest(text) {
  const split = text.indexOf('\n\n')
  const head = split < 0 ? text : text.slice(0, split)
  const body = split < 0 ? '' : text.slice(split + 2)
  const lines = head.split('\n')
  const [method, url] = lines[0].split(' ')
  const distinct = {}
  let last = null
  for (const line of lines.slice(1)) {
    if (/^\s/.test(line) && last) {             // a folded continuation line
      const values = distinct[last]
      values[values.length - 1] += ' ' + line.trim()
      continue
    }
    const colon = line.indexOf(':')
    last = line.slice(0, colon).toLowerCase()
    ;(distinct[last] = distinct[last] || []).push(line.slice(colon + 1))
  }
  const headers = {}
  for (const [name, values] of Object.entries(distinct)) headers[name] = values.join(', ')
  return { req: { method, url, headers, headersDistinct: distinct }, body: Buffer.from(body) }
}

// Checks one case folder; returns a failure message or null.
function checkCase(dir) {
  const context = JSON.parse(fs.readFileSync(path.join(dir, 'context.json'), 'utf8'))
  const c = context.credentials
  const store = new CredentialStore([{ accessKeyId: c.access_key_id,
    secretAccessKey: c.secret_access_key, sessionToken: c.token || null }], null)
  const expect = { service: context.service, regions: [context.region],
    now: Date.parse(context.timestamp) }
  const text = fs.readFileSync(path.join(dir, 'header-signed-request.txt'), 'utf8')
  const signed = parseRequest(text)
  const result = verify(signed.req, signed.body, store, expect)
  if (!result.ok) return `rejected as signed: ${result.kind}: ${result.message}`
  const tampered = parseRequest(text)
  if (tampered.body.length > 0) {
    tampered.body = Buffer.concat([tampered.body, Buffer.from('x')])
  } else {
    tampered.req.headers['x-amz-date'] = '20150830T123601Z'
    tampered.req.headersDistinct['x-amz-date'] = ['20150830T123601Z']
  }
  const changed = verify(tampered.req, tampered.body, store, expect)
  if (changed.ok) return 'accepted after a change'
  const wrongKey = new CredentialStore([{ accessKeyId: c.access_key_id,
    secretAccessKey: c.secret_access_key + 'x', sessionToken: c.token || null }], null)
  if (verify(signed.req, signed.body, wrongKey, expect).ok) return 'accepted with a wrong secret'
  const late = Object.assign({}, expect, { now: expect.now + 301 * 1000 })
  const expired = verify(signed.req, signed.body, store, late)
  if (expired.kind !== 'expired-signature') return 'accepted more than 5 minutes late'
  const elsewhere = Object.assign({}, expect, { regions: ['eu-west-1'] })
  if (verify(signed.req, signed.body, store, elsewhere).kind !== 'scope') {
    return 'accepted for another region'
  }
  return null
}

const root = process.argv[2]
let checked = 0
let failed = 0
for (const name of fs.readdirSync(root).sort()) {
  const dir = path.join(root, name)
  const context = JSON.parse(fs.readFileSync(path.join(dir, 'context.json'), 'utf8'))
  if (context.normalize === false) continue      // S3-style paths: not served here
  const requestLine = fs.readFileSync(path.join(dir, 'request.txt'), 'utf8').split('\n')[0]
  const target = requestLine.slice(requestLine.indexOf(' ') + 1, requestLine.lastIndexOf(' '))
  if (/[^\x21-\x7e]/.test(target)) continue  // a path no request on the wire holds
  checked += 1
  const problem = checkCase(dir)
  if (problem) {
    failed += 1
    console.log(`${name}: ${problem}`)
  }
}
console.log(`checked ${checked} vectors, ${failed} failed`)
process.exit(failed ? 1 : 0)
