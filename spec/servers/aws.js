'use strict'
// The local AWS test server of StreamQuery's specs (see README.md): Athena
// emulated in memory, Kinesis through kinesalite, STS, instance metadata and
// container credentials, every AWS request's SigV4 signature checked with
// an independent signer, and faults on demand.  It listens on 127.0.0.1
// only, prints one JSON line on stdout when ready, logs to stderr, and
// exits on SIGTERM or when its stdin closes.

const fs = require('fs')
const http = require('http')
const https = require('https')

const { parse } = require('./lib/options')
const { ApiError, requestId, jsonError, jsonOk, xmlError } = require('./lib/protocol')
const signature = require('./lib/signature')
const { CredentialStore } = require('./lib/credentials')
const { Stats } = require('./lib/stats')
const { Faults, PUT_RECORDS } = require('./lib/faults')
const { Athena } = require('./lib/athena')
const kinesis = require('./lib/kinesis')
const { Identity, queryParameters, isStsRequest, STS_NAMESPACE } = require('./lib/identity')
const { makeCertificates } = require('./lib/tls')

const MAX_BODY_BYTES = 8 * 1024 * 1024
const SERVICES = { 'AmazonAthena': 'athena', 'Kinesis_20131202': 'kinesis' }
const THROTTLE_CODES = {
  athena: 'ThrottlingException',
  kinesis: 'ProvisionedThroughputExceededException',
  sts: 'Throttling',
}

// Writes one line to stderr, the server's log.
function log(message) {
  process.stderr.write(`aws.js: ${message}\n`)
}

// Resolves after `ms` milliseconds (at once for 0).
function sleep(ms) {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

// The server's state shared by every request.
function makeContext(options) {
  const stats = new Stats()
  const store = new CredentialStore(options.credentials, options.stsDuration)
  return {
    options,
    stats,
    store,
    faults: new Faults(),
    athena: new Athena(options, stats),
    identity: new Identity(options, store, stats),
    kinesis: null,
    latencyMs: options.latencyMs,
  }
}

// Writes a response {status, headers, body} with the request id; records its status.
function send(ctx, res, entry, id, response) {
  if (res.writableEnded || res.destroyed) return
  const body = Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body || '')
  res.statusCode = response.status
  for (const [name, value] of Object.entries(response.headers || {})) res.setHeader(name, value)
  res.setHeader('x-amzn-RequestId', id)
  res.setHeader('Content-Length', body.length)
  res.end(body)
  if (entry) {
    entry.status = response.status
    ctx.stats.answered(response.status)
  }
}

// The error response of a request's protocol: JSON 1.1, STS XML or plain text.
function errorResponse(protocol, error, id) {
  if (protocol === 'json') return jsonError(error)
  if (protocol === 'query') return xmlError(error, id, STS_NAMESPACE)
  return {
    status: error.status,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: error.code, message: error.message }),
  }
}

// Classifies a non-control request: its target name, protocol, service and
// whether it must be signed.  Returns an ApiError for an unknown target.
function classify(ctx, req, body, pathname) {
  if (pathname.startsWith('/latest/')) {
    return { target: 'IMDS', protocol: 'plain', service: 'imds', signed: false }
  }
  if (pathname === ctx.options.containerPath) {
    return { target: 'Container', protocol: 'plain', service: 'container', signed: false }
  }
  const target = req.headers['x-amz-target']
  if (target !== undefined) {
    const dot = target.indexOf('.')
    const service = SERVICES[target.slice(0, dot)]
    if (dot < 0 || service === undefined) {
      return { target, protocol: 'json', error: new ApiError(400, 'UnknownOperationException',
        `X-Amz-Target ${target} names no service of this server`) }
    }
    if (service === 'kinesis' && !ctx.kinesis) {
      return { target, protocol: 'json', error: new ApiError(400, 'UnknownOperationException',
        'Kinesis is off: start the test server with --kinesis') }
    }
    return { target, protocol: 'json', service, operation: target.slice(dot + 1), signed: true }
  }
  const params = queryParameters(req, body)
  if (isStsRequest(params)) {
    const action = params.get('Action')
    return { target: `STS.${action}`, protocol: 'query', service: 'sts', operation: action,
      params, signed: ctx.identity.needsSignature(action) }
  }
  return { target: `${req.method} ${pathname}`, protocol: 'json',
    error: new ApiError(404, 'UnknownOperationException',
      `Nothing is served at ${req.method} ${pathname} (AWS requests need X-Amz-Target)`) }
}

// The error response a "throttle" or "status" fault rule gives.
function faultError(rule, service) {
  if (rule.action === 'throttle') {
    const code = rule.code || THROTTLE_CODES[service] || 'ThrottlingException'
    return new ApiError(rule.status || 400, code, rule.message || 'Rate exceeded')
  }
  const status = rule.status
  let code = rule.code
  if (code === undefined) {
    if (status === 503) code = 'ServiceUnavailable'
    else if (status >= 500) code = service === 'athena' ? 'InternalServerException' : 'InternalFailure'
    else code = 'ValidationException'
  }
  return new ApiError(status, code, rule.message || `Fault injected by the test (HTTP ${status})`)
}

// Parses a JSON 1.1 request body into an object, or throws a SerializationException.
function jsonInput(req, body) {
  const type = (req.headers['content-type'] || '').split(';')[0].trim()
  if (type !== 'application/x-amz-json-1.1') {
    throw new ApiError(400, 'SerializationException',
      `Content-Type must be application/x-amz-json-1.1, got "${type}"`)
  }
  let input
  try {
    input = JSON.parse(body.length ? body.toString('utf8') : '{}')
  } catch (err) {
    throw new ApiError(400, 'SerializationException', `Request body is not JSON: ${err.message}`)
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ApiError(400, 'SerializationException', 'Request body must be a JSON object')
  }
  return input
}

// Answers a classified request that passed the signature check and the faults.
async function answer(ctx, req, body, kind, signer, rule, id) {
  switch (kind.service) {
    case 'imds': return ctx.identity.imds(req, new URL(req.url, 'http://x').pathname)
    case 'container': return ctx.identity.container(req)
    case 'sts': return ctx.identity.sts(kind.operation, kind.params, signer, id)
    case 'athena': return jsonOk(ctx.athena.handle(kind.operation, jsonInput(req, body)))
    case 'kinesis':
      if (rule && rule.action === 'partial') {
        return kinesis.partialPutRecords(ctx.kinesis, req, body, rule)
      }
      return kinesis.forward(ctx.kinesis, req, body)
    default: throw new Error(`no handler for ${kind.service}`)
  }
}

// Handles one request that is not a control request.
async function serve(ctx, req, res, body, pathname) {
  const started = process.hrtime.bigint()
  const id = requestId()
  const kind = classify(ctx, req, body, pathname)
  ctx.stats.use(req.socket)
  const entry = ctx.stats.request(kind.target, req.socket)
  let pausedNs = 0n
  const reply = async (response) => {
    const before = process.hrtime.bigint()
    await sleep(ctx.latencyMs)
    ctx.stats.addedLatencyMs += ctx.latencyMs
    const sent = process.hrtime.bigint()
    send(ctx, res, entry, id, response)
    pausedNs += sent - before
    ctx.stats.handlingMs += Number(process.hrtime.bigint() - started - pausedNs) / 1e6
  }
  if (kind.error) return reply(errorResponse(kind.protocol, kind.error, id))
  let signer = null
  if (kind.signed) {
    const regions = kind.service === 'sts' && ctx.options.region !== 'us-east-1'
      ? [ctx.options.region, 'us-east-1'] : [ctx.options.region]
    const check = signature.verify(req, body, ctx.store, { service: kind.service, regions })
    if (!check.ok) {
      const [status, code] = (kind.protocol === 'query' ? signature.QUERY_CODES
        : signature.JSON_CODES)[check.kind]
      ctx.stats.authFailed(code)
      entry.auth_failure = code
      return reply(errorResponse(kind.protocol, new ApiError(status, code, check.message), id))
    }
    ctx.stats.signed(entry, check)
    signer = check.accessKeyId
  }
  const rule = ctx.faults.take(kind.target)
  if (rule) {
    ctx.stats.faultsFired += 1
    entry.fault = rule.action
    switch (rule.action) {
      case 'reset':
        entry.status = 'reset'
        try {
          req.socket.resetAndDestroy()
        } catch (err) {
          req.socket.destroy()
        }
        return undefined
      case 'hang':
        entry.status = 'hang'
        return undefined
      case 'delay': {
        const before = process.hrtime.bigint()
        await sleep(rule.delay_ms)
        pausedNs += process.hrtime.bigint() - before
        break
      }
      case 'throttle':
        ctx.stats.throttled += 1
        return reply(errorResponse(kind.protocol, faultError(rule, kind.service), id))
      case 'status':
        return reply(errorResponse(kind.protocol, faultError(rule, kind.service), id))
      default:
        break
    }
  }
  let response
  try {
    response = await answer(ctx, req, body, kind, signer, rule, id)
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    response = errorResponse(kind.protocol, err, id)
  }
  return reply(response)
}

// Answers a control request (unsigned JSON under /__control/).
function control(ctx, req, body, pathname) {
  const ok = (value) => ({ status: 200, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(value) })
  const bad = (status, message) => ({ status, headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ error: message }) })
  let input = {}
  if (body.length) {
    try {
      input = JSON.parse(body.toString('utf8'))
    } catch (err) {
      return bad(400, `control request body is not JSON: ${err.message}`)
    }
  }
  const route = `${req.method} ${pathname}`
  try {
    switch (route) {
      case 'GET /__control/stats': return ok(ctx.stats)
      case 'POST /__control/reset':
        ctx.stats.reset()
        ctx.faults.clear()
        ctx.athena.reset()
        ctx.latencyMs = ctx.options.latencyMs
        return ok({ reset: true })
      case 'GET /__control/faults': return ok({ rules: ctx.faults })
      case 'POST /__control/faults':
        ctx.faults.add(input.rules, input.replace === true)
        return ok({ rules: ctx.faults.rules.length })
      case 'DELETE /__control/faults':
        ctx.faults.clear()
        return ok({ rules: 0 })
      case 'POST /__control/athena/scripts':
        return ok({ scripts: ctx.athena.setScripts(input.scripts, input.append === true) })
      case 'GET /__control/athena/queries': return ok({ queries: ctx.athena.list() })
      case 'POST /__control/config':
        if (input.latency_ms !== undefined) {
          if (!Number.isInteger(input.latency_ms) || input.latency_ms < 0) {
            return bad(400, 'latency_ms must be an integer >= 0')
          }
          ctx.latencyMs = input.latency_ms
        }
        if (input.athena_rate !== undefined) {
          if (typeof input.athena_rate !== 'number' || !(input.athena_rate >= 0)) {
            return bad(400, 'athena_rate must be a number >= 0 (requests per second)')
          }
          ctx.athena.setRate(input.athena_rate)
        }
        return ok({ latency_ms: ctx.latencyMs, athena_rate: ctx.athena.rate })
      default: return bad(404, `no control endpoint ${route}`)
    }
  } catch (err) {
    return bad(400, err.message)
  }
}

// The request listener: reads the whole body, then routes the request.
function listener(ctx) {
  return (req, res) => {
    const chunks = []
    let size = 0
    req.on('data', (chunk) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => {
      const id = requestId()
      if (size > MAX_BODY_BYTES) {
        return send(ctx, res, null, id, errorResponse('json',
          new ApiError(413, 'SerializationException', 'Request body is too large'), id))
      }
      const body = Buffer.concat(chunks)
      const pathname = new URL(req.url, 'http://127.0.0.1').pathname
      if (pathname.startsWith('/__control/')) {
        return send(ctx, res, null, id, control(ctx, req, body, pathname))
      }
      serve(ctx, req, res, body, pathname).catch((err) => {
        log(`internal error on ${req.method} ${req.url}: ${err.stack || err}`)
        send(ctx, res, null, id, errorResponse('json',
          new ApiError(500, 'InternalFailure', `test server error: ${err.message}`), id))
      })
      return undefined
    })
  }
}

// Starts every part, then prints the ready line.
async function main() {
  let options
  try {
    options = parse(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
  const ctx = makeContext(options)
  const ready = {}
  if (options.kinesis) {
    ctx.kinesis = await kinesis.start(options.kinesisCreateMs)
    ready.kinesalite_port = ctx.kinesis.port
  }
  let server
  if (options.tls) {
    const files = makeCertificates()
    server = https.createServer({ key: fs.readFileSync(files.keyFile),
      cert: fs.readFileSync(files.certFile) }, listener(ctx))
    ready.ca_file = files.caFile
  } else {
    server = http.createServer(listener(ctx))
  }
  server.keepAliveTimeout = 30000
  server.on('connection', (socket) => ctx.stats.accepted(socket))
  server.on('clientError', (err, socket) => socket.destroy())
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', resolve)
  })
  const port = server.address().port
  const scheme = options.tls ? 'https' : 'http'
  const line = Object.assign({ port, url: `${scheme}://127.0.0.1:${port}`, region: options.region,
    access_key_ids: options.credentials.map((c) => c.accessKeyId) }, ready)
  process.stdout.write(JSON.stringify(line) + '\n')
}

// Leaves at once; the 'exit' handlers remove temporary files.
function shutdown() {
  process.exit(0)
}

process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
if (!process.argv.includes('--ignore-stdin')) {
  process.stdin.on('end', shutdown)
  process.stdin.on('error', shutdown)
  process.stdin.resume()
}
main().catch((err) => {
  log(`could not start: ${err.stack || err}`)
  process.exit(1)
})
