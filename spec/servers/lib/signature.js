'use strict'
// Checks the SigV4 signature of a request by recomputing it with aws4, an
// independent signer, from the request's own method, path, query, signed
// headers and body.

const crypto = require('crypto')
const aws4 = require('aws4')

const MAX_SKEW_MS = 5 * 60 * 1000

// A failed check: `kind` is protocol-neutral, mapped to an error code by the caller.
function failure(kind, message) {
  return { ok: false, kind, message }
}

// Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." or null.
function parseAuthorization(header) {
  const space = header.indexOf(' ')
  if (space < 0) return null
  const algorithm = header.slice(0, space)
  const fields = {}
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  if (!fields.Credential || !fields.SignedHeaders || !fields.Signature) return null
  const scope = fields.Credential.split('/')
  if (scope.length !== 5) return null
  return {
    algorithm,
    accessKeyId: scope[0],
    date: scope[1],
    region: scope[2],
    service: scope[3],
    terminator: scope[4],
    signedHeaders: fields.SignedHeaders,
    signature: fields.Signature,
  }
}

// Parses the request time from X-Amz-Date (YYYYMMDDTHHMMSSZ) or Date; NaN if bad.
function requestTime(headers) {
  const amz = headers['x-amz-date']
  if (amz !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amz)
    if (!m) return { stamp: amz, ms: NaN }
    return { stamp: amz, ms: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) }
  }
  if (headers.date !== undefined) return { stamp: null, ms: Date.parse(headers.date) }
  return null
}

// Compares two hex strings in constant time.
function sameHex(a, b) {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

// A header's value for signing: repeated headers are joined with "," after
// each value is trimmed, as SigV4 wants (Node itself joins them with ", ").
function headerValue(req, name) {
  const values = req.headersDistinct && req.headersDistinct[name]
  if (!values) return req.headers[name]
  return values.map((v) => v.trim()).join(',')
}

// Recomputes the signature of `req` (with its `body` Buffer) for `credentials`.
function expectedSignature(req, body, auth, credentials, time) {
  const names = auth.signedHeaders.split(';')
  const headers = {}
  const include = Object.create(null)
  for (const name of names) {
    headers[name] = headerValue(req, name)
    include[name] = true
  }
  const signer = new aws4.RequestSigner({
    method: req.method,
    path: req.url,
    headers,
    body,
    service: auth.service,
    region: auth.region,
    doNotModifyHeaders: true,
    extraHeadersToInclude: include,
  }, { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey })
  if (time.stamp) signer.datetime = time.stamp
  if (signer.signedHeaders() !== auth.signedHeaders) return null
  return signer.signature()
}

// Checks a request against `expect` = { service, regions, now? (ms, for
// tests) }.  `req` needs method, url, headers (lowercase names) and may
// have headersDistinct; `body` is a Buffer.  Returns
// { ok: true, accessKeyId, tokenPresent, tokenSigned } or a failure whose
// kind is missing, incomplete, unknown-key, signature, expired-signature,
// scope, token or expired-token.
function verify(req, body, store, expect) {
  const header = req.headers.authorization
  if (header === undefined) return failure('missing', 'Request is missing an Authorization header')
  const auth = parseAuthorization(header)
  if (!auth) {
    return failure('incomplete', 'Authorization header needs Credential (5 parts), SignedHeaders ' +
      'and Signature')
  }
  if (auth.algorithm !== 'AWS4-HMAC-SHA256') {
    return failure('incomplete', `Unsupported signing algorithm ${auth.algorithm}`)
  }
  const credentials = store.lookup(auth.accessKeyId)
  if (!credentials) {
    return failure('unknown-key', `Access key ${auth.accessKeyId} is not known to this server`)
  }
  const time = requestTime(req.headers)
  if (!time) return failure('incomplete', 'Signed requests need an X-Amz-Date or Date header')
  if (Number.isNaN(time.ms)) return failure('incomplete', 'X-Amz-Date is not YYYYMMDDTHHMMSSZ')
  const names = auth.signedHeaders.split(';')
  if (!names.includes('host')) return failure('signature', 'The host header must be signed')
  for (const name of names) {
    if (req.headers[name] === undefined) {
      return failure('signature', `Signed header ${name} is not in the request`)
    }
  }
  if (time.stamp && !names.includes('x-amz-date')) {
    return failure('signature', 'X-Amz-Date must be among the signed headers')
  }
  const now = expect.now === undefined ? Date.now() : expect.now
  if (Math.abs(now - time.ms) > MAX_SKEW_MS) {
    return failure('expired-signature', 'Signature expired: request time ' +
      `${time.stamp || req.headers.date} is more than 5 minutes away from the server time ` +
      new Date(now).toISOString())
  }
  const day = new Date(time.ms).toISOString().slice(0, 10).replace(/-/g, '')
  if (auth.date !== day) {
    return failure('signature', `Credential date ${auth.date} does not match the request date ${day}`)
  }
  if (auth.terminator !== 'aws4_request') {
    return failure('signature', 'Credential scope must end with aws4_request')
  }
  if (!expect.regions.includes(auth.region)) {
    return failure('scope', `Credential is scoped to region ${auth.region}; ` +
      `this endpoint expects ${expect.regions[0]}`)
  }
  if (auth.service !== expect.service) {
    return failure('scope', `Credential is scoped to service ${auth.service}; ` +
      `this request is for ${expect.service}`)
  }
  const payloadHash = req.headers['x-amz-content-sha256']
  if (payloadHash !== undefined &&
      payloadHash !== crypto.createHash('sha256').update(body).digest('hex')) {
    return failure('signature', 'X-Amz-Content-Sha256 does not match the request body')
  }
  const expected = expectedSignature(req, body, auth, credentials, time)
  if (expected === null) {
    return failure('signature', 'SignedHeaders must be lowercase, sorted and separated by ";"')
  }
  if (!sameHex(expected, auth.signature)) {
    return failure('signature', 'The request signature does not match the one computed ' +
      'from the request and the secret access key')
  }
  const token = req.headers['x-amz-security-token']
  if (credentials.sessionToken !== null && credentials.sessionToken !== undefined) {
    if (token === undefined) {
      return failure('token', `Access key ${auth.accessKeyId} needs its session token ` +
        '(X-Amz-Security-Token)')
    }
    if (!sameHex(token, credentials.sessionToken)) {
      return failure('token', 'The security token included in the request is invalid')
    }
  } else if (token !== undefined) {
    return failure('token', `Access key ${auth.accessKeyId} takes no session token`)
  }
  if (credentials.expiresAt !== null && now >= credentials.expiresAt) {
    return failure('expired-token', 'The security token included in the request has expired')
  }
  return {
    ok: true,
    accessKeyId: auth.accessKeyId,
    tokenPresent: token !== undefined,
    tokenSigned: names.includes('x-amz-security-token'),
  }
}

// Error codes per failure kind for the JSON protocol ...
const JSON_CODES = {
  'missing': [400, 'MissingAuthenticationTokenException'],
  'incomplete': [400, 'IncompleteSignatureException'],
  'unknown-key': [403, 'UnrecognizedClientException'],
  'signature': [403, 'InvalidSignatureException'],
  'expired-signature': [403, 'InvalidSignatureException'],
  'scope': [403, 'InvalidSignatureException'],
  'token': [403, 'UnrecognizedClientException'],
  'expired-token': [403, 'ExpiredTokenException'],
}

// ... and for the query protocol (STS).
const QUERY_CODES = {
  'missing': [403, 'MissingAuthenticationToken'],
  'incomplete': [400, 'IncompleteSignature'],
  'unknown-key': [403, 'InvalidClientTokenId'],
  'signature': [403, 'SignatureDoesNotMatch'],
  'expired-signature': [403, 'SignatureDoesNotMatch'],
  'scope': [403, 'SignatureDoesNotMatch'],
  'token': [403, 'InvalidClientTokenId'],
  'expired-token': [403, 'ExpiredToken'],
}

module.exports = { verify, parseAuthorization, JSON_CODES, QUERY_CODES }
