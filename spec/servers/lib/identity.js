'use strict'
// Where SDKs find credentials, emulated: STS (AssumeRole,
// AssumeRoleWithWebIdentity, GetCallerIdentity, query protocol with XML
// answers), EC2 instance metadata (IMDSv2) and the container credentials
// endpoint.  Every credential issued here is accepted by this same server.

const crypto = require('crypto')
const { ApiError, xmlEscape } = require('./protocol')
const { isoSeconds } = require('./credentials')

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'
const ACCOUNT = '000000000000'

// The parameters of a query-protocol request: its query string and form body.
function queryParameters(req, body) {
  const url = new URL(req.url, 'http://127.0.0.1')
  const params = new URLSearchParams(url.search)
  const type = (req.headers['content-type'] || '').split(';')[0].trim()
  if (req.method === 'POST' && type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v)
  }
  return params
}

// Whether a request without X-Amz-Target is an STS (query protocol) call.
function isStsRequest(params) {
  return params.has('Action')
}

// A ValidationError naming the parameter, as STS reports bad input.
function validation(message) {
  return new ApiError(400, 'ValidationError', message)
}

// Checks a required string parameter's length and, optionally, its pattern.
function param(params, name, min, max, pattern) {
  const value = params.get(name)
  if (value === null) throw validation(`${name} is required`)
  if (value.length < min || value.length > max) {
    throw validation(`${name} must be ${min} to ${max} characters long`)
  }
  if (pattern && !pattern.test(value)) throw validation(`${name} has characters it may not hold`)
  return value
}

// DurationSeconds: 900 to 43200, default 3600.
function duration(params) {
  const text = params.get('DurationSeconds')
  if (text === null) return 3600
  const n = Number(text)
  if (!Number.isInteger(n) || n < 900 || n > 43200) {
    throw validation('DurationSeconds must be an integer from 900 to 43200')
  }
  return n
}

// The XML of issued credentials.
function credentialsXml(c) {
  return '    <Credentials>\n' +
    `      <AccessKeyId>${c.accessKeyId}</AccessKeyId>\n` +
    `      <SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>\n` +
    `      <SessionToken>${xmlEscape(c.sessionToken)}</SessionToken>\n` +
    `      <Expiration>${isoSeconds(c.expiresAt)}</Expiration>\n` +
    '    </Credentials>\n'
}

// The assumed-role user of a role ARN and session name.
function assumedRoleXml(roleArn, session) {
  const roleName = roleArn.split('/').pop()
  const account = (roleArn.split(':')[4] || ACCOUNT) || ACCOUNT
  return '    <AssumedRoleUser>\n' +
    `      <AssumedRoleId>AROATESTROLE0000000000:${xmlEscape(session)}</AssumedRoleId>\n` +
    `      <Arn>arn:aws:sts::${account}:assumed-role/${xmlEscape(roleName)}/` +
    `${xmlEscape(session)}</Arn>\n` +
    '    </AssumedRoleUser>\n'
}

// Wraps a result in the STS response envelope.
function stsEnvelope(action, inner, id) {
  return {
    status: 200,
    headers: { 'Content-Type': 'text/xml' },
    body: `<${action}Response xmlns="${STS_NAMESPACE}">\n  <${action}Result>\n${inner}` +
      `  </${action}Result>\n  <ResponseMetadata>\n    <RequestId>${id}</RequestId>\n` +
      `  </ResponseMetadata>\n</${action}Response>\n`,
  }
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const SESSION_NAME = /^[\w+=,.@-]+$/

class Identity {
  constructor(options, store, stats) {
    this.options = options
    this.store = store
    this.stats = stats
    this.imdsTokens = new Map()
    this.cached = new Map()
  }

  // Whether an STS action must be signed (AssumeRoleWithWebIdentity is not).
  needsSignature(action) {
    return action !== 'AssumeRoleWithWebIdentity'
  }

  // Answers an STS action; `signer` is the access key id that signed it.
  sts(action, params, signer, id) {
    if (params.has('Version') && params.get('Version') !== '2011-06-15') {
      throw new ApiError(400, 'InvalidAction', `STS API version ${params.get('Version')} is not known`)
    }
    switch (action) {
      case 'AssumeRole': {
        const roleArn = param(params, 'RoleArn', 20, 2048, ROLE_ARN)
        const session = param(params, 'RoleSessionName', 2, 64, SESSION_NAME)
        const seconds = duration(params)
        const c = this.store.issue('sts', seconds)
        this.stats.stsCalls.push({ action, role_arn: roleArn, role_session_name: session,
          duration_seconds: seconds, signed_by: signer, issued: c.accessKeyId })
        return stsEnvelope(action, assumedRoleXml(roleArn, session) + credentialsXml(c) +
          '    <PackedPolicySize>0</PackedPolicySize>\n', id)
      }
      case 'AssumeRoleWithWebIdentity': {
        const roleArn = param(params, 'RoleArn', 20, 2048, ROLE_ARN)
        const session = param(params, 'RoleSessionName', 2, 64, SESSION_NAME)
        const token = param(params, 'WebIdentityToken', 4, 20000)
        const seconds = duration(params)
        const expected = this.options.webIdentityToken
        if (expected === null || token !== expected) {
          throw new ApiError(400, 'InvalidIdentityToken', 'The web identity token was not accepted')
        }
        const c = this.store.issue('web-identity', seconds)
        this.stats.stsCalls.push({ action, role_arn: roleArn, role_session_name: session,
          duration_seconds: seconds, issued: c.accessKeyId })
        return stsEnvelope(action, '    <SubjectFromWebIdentityToken>system:serviceaccount:' +
          'streamquery:test</SubjectFromWebIdentityToken>\n' +
          '    <Audience>sts.amazonaws.com</Audience>\n' +
          assumedRoleXml(roleArn, session) + credentialsXml(c) +
          '    <Provider>oidc.streamquery.test</Provider>\n', id)
      }
      case 'GetCallerIdentity':
        this.stats.stsCalls.push({ action, signed_by: signer })
        return stsEnvelope(action, `    <Arn>arn:aws:iam::${ACCOUNT}:user/${xmlEscape(signer)}` +
          `</Arn>\n    <UserId>${xmlEscape(signer)}</UserId>\n    <Account>${ACCOUNT}</Account>\n`, id)
      default:
        throw new ApiError(400, 'InvalidAction', `STS action ${action} is not implemented here`)
    }
  }

  // Credentials for a metadata role or the container, renewed in their second half of life.
  current(key) {
    const c = this.cached.get(key)
    const life = (this.options.stsDuration || 21600) * 1000
    if (c && c.expiresAt - Date.now() > life / 2) return c
    const fresh = this.store.issue(key, 21600)
    this.cached.set(key, fresh)
    return fresh
  }

  // Answers an instance metadata request (IMDSv2 only).
  imds(req, path) {
    const text = (status, body, type) => ({
      status, headers: { 'Content-Type': type || 'text/plain' }, body,
    })
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return text(405, 'Method Not Allowed')
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds'])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) {
        return text(400, 'X-aws-ec2-metadata-token-ttl-seconds must be 1 to 21600')
      }
      const token = crypto.randomBytes(42).toString('base64')
      this.imdsTokens.set(token, Date.now() + ttl * 1000)
      const answer = text(200, token)
      answer.headers['X-aws-ec2-metadata-token-ttl-seconds'] = String(ttl)
      return answer
    }
    if (req.method !== 'GET') return text(405, 'Method Not Allowed')
    const token = req.headers['x-aws-ec2-metadata-token']
    const expiry = token === undefined ? undefined : this.imdsTokens.get(token)
    if (expiry === undefined || Date.now() >= expiry) return text(401, 'Unauthorized')
    const base = '/latest/meta-data/iam/security-credentials/'
    const role = this.options.roleName
    if (path === base) return text(200, role)
    if (path === base + role) {
      const c = this.current('imds')
      this.stats.metadataCredentialsServed += 1
      return text(200, JSON.stringify({
        Code: 'Success',
        LastUpdated: isoSeconds(Date.now()),
        Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: isoSeconds(c.expiresAt),
      }, null, 2), 'application/json')
    }
    if (path === '/latest/meta-data/placement/region') return text(200, this.options.region)
    if (path === '/latest/dynamic/instance-identity/document') {
      return text(200, JSON.stringify({ region: this.options.region, accountId: ACCOUNT,
        instanceId: 'i-0123456789abcdef0', availabilityZone: `${this.options.region}a` }),
      'application/json')
    }
    return text(404, 'Not Found')
  }

  // Answers the container credentials endpoint (ECS, EKS Pod Identity).
  container(req) {
    const json = (status, value) => ({
      status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value),
    })
    if (req.method !== 'GET') return json(405, { message: 'Method Not Allowed' })
    const expected = this.options.containerToken
    if (expected !== null && req.headers.authorization !== expected) {
      return json(401, { code: 'AccessDenied', message: 'Authorization is missing or wrong' })
    }
    const c = this.current('container')
    this.stats.containerCredentialsServed += 1
    return json(200, {
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: isoSeconds(c.expiresAt),
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/${this.options.roleName}`,
    })
  }
}

module.exports = { Identity, queryParameters, isStsRequest, STS_NAMESPACE }
