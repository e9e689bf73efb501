'use strict'
// A Lambda Runtime API test server (loopback only), as a module and a CLI.
//
// The module gives createRuntime(options) -> runtime, with
//   runtime.listen() -> Promise of "127.0.0.1:PORT" (AWS_LAMBDA_RUNTIME_API)
//   runtime.invoke(payload) -> Promise of the outcome of one invocation:
//     { requestId, outcome: 'response' | 'error' | 'lost', response, error,
//       errorTypeHeader }
//   runtime.initErrors, runtime.protocolErrors   what it was told, and what
//                                                broke the protocol
// and spawnFunction(command, env) to run a bootstrap next to it.
//
// The CLI plays a list of events against a bootstrap and prints what
// happened as one JSON document on stdout:
//   node lambda_runtime.js --events FILE [options] -- COMMAND [ARG...]
//     --events FILE       a JSON array of invocation payloads: a string is
//                         sent as it is (to send text that is not JSON),
//                         anything else as its JSON
//     --timeout-secs N    the function's timeout: deadline = now + N s (60)
//     --clear-env         start COMMAND with an empty environment, plus
//     --env NAME=VALUE    these variables (repeatable) and
//                         AWS_LAMBDA_RUNTIME_API
//     --function-arn ARN  Lambda-Runtime-Invoked-Function-Arn
// Without COMMAND it writes its address to --address-file FILE and waits
// for a client to come and take the events, and then for the client to
// create --stop-file FILE.  It stops when every event has an outcome (and
// the stop file exists), when the bootstrap exits, or after
// --give-up-secs (120).
const http = require('http')
const crypto = require('crypto')
const { spawn } = require('child_process')
const fs = require('fs')

const PREFIX = '/2018-06-01/runtime'
const RESPONSE_LIMIT = 6 * 1024 * 1024 // Lambda's limit on a response body
const DEFAULT_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:streamquery'

// A trace header shaped as X-Ray's, with a fresh root id.
function traceId() {
  const time = Math.floor(Date.now() / 1000).toString(16)
  return `Root=1-${time}-${crypto.randomBytes(12).toString('hex')};` +
    `Parent=${crypto.randomBytes(8).toString('hex')};Sampled=0`
}

// Parses a JSON text, or returns undefined when it is not JSON.
function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch (e) {
    return undefined
  }
}

// Reads a whole request body as a Buffer.
function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

// Answers a request with a JSON document.
function reply(response, status, document) {
  const body = JSON.stringify(document)
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
  response.end(body)
}

// Checks an error report's body: a JSON object with string errorMessage
// and errorType.  Returns a problem text or null.
function errorBodyProblem(body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object'
  if (typeof body.errorMessage !== 'string') return 'errorMessage is not a string'
  if (typeof body.errorType !== 'string') return 'errorType is not a string'
  return null
}

function createRuntime(options = {}) {
  const timeoutMs = (options.timeoutSecs ?? 60) * 1000
  const functionArn = options.functionArn || DEFAULT_ARN
  const queue = [] // invocations waiting for a "next"
  const open = new Map() // request id -> invocation handed out, no outcome yet
  const finished = new Set()
  const waiting = [] // "next" requests parked until an invocation comes
  const runtime = { initErrors: [], protocolErrors: [], invocations: 0, server: null }

  // Hands an invocation to a parked "next" request.
  function deliver(invocation, response) {
    open.set(invocation.requestId, invocation)
    const headers = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + timeoutMs),
      'Lambda-Runtime-Invoked-Function-Arn': functionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
      'Content-Length': Buffer.byteLength(invocation.body)
    }
    response.writeHead(200, headers)
    response.end(invocation.body)
  }

  // Records the outcome of an open invocation.
  function settle(id, outcome) {
    const invocation = open.get(id)
    open.delete(id)
    finished.add(id)
    invocation.resolve(Object.assign({ requestId: id, traceId: invocation.traceId }, outcome))
  }

  async function handle(request, response) {
    const url = request.url
    if (request.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      if (open.size > 0) runtime.protocolErrors.push(`next while ${[...open.keys()].join(', ')} had no outcome`)
      if (queue.length > 0) return deliver(queue.shift(), response)
      waiting.push(response)
      request.on('close', () => {
        const at = waiting.indexOf(response)
        if (at >= 0) waiting.splice(at, 1)
      })
      return
    }
    if (request.method !== 'POST') {
      runtime.protocolErrors.push(`${request.method} ${url}`)
      return reply(response, 404, { errorMessage: `no route ${request.method} ${url}`, errorType: 'NotFound' })
    }
    const body = await readBody(request)
    const errorType = request.headers['lambda-runtime-function-error-type'] || null
    if (url === `${PREFIX}/init/error`) {
      const parsed = parseJson(body.toString('utf8'))
      const problem = errorBodyProblem(parsed)
      if (problem) runtime.protocolErrors.push(`init/error: ${problem}`)
      runtime.initErrors.push({ errorTypeHeader: errorType, error: parsed })
      return reply(response, 202, { status: 'OK' })
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url)
    if (!match) {
      runtime.protocolErrors.push(`POST ${url}`)
      return reply(response, 404, { errorMessage: `no route POST ${url}`, errorType: 'NotFound' })
    }
    const [, id, kind] = match
    if (!open.has(id)) {
      const why = finished.has(id) ? 'already has an outcome' : 'is unknown'
      runtime.protocolErrors.push(`${kind} for ${id}, which ${why}`)
      return reply(response, 400, { errorMessage: `request id ${id} ${why}`, errorType: 'InvalidRequestID' })
    }
    if (kind === 'response') {
      if (body.length > RESPONSE_LIMIT) {
        settle(id, { outcome: 'error', error: { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `response of ${body.length} bytes` } })
        return reply(response, 413, { errorMessage: 'response too large', errorType: 'RequestEntityTooLarge' })
      }
      const parsed = parseJson(body.toString('utf8'))
      if (parsed === undefined) runtime.protocolErrors.push(`response for ${id} is not JSON`)
      settle(id, { outcome: 'response', response: parsed })
    } else {
      const parsed = parseJson(body.toString('utf8'))
      const problem = errorBodyProblem(parsed)
      if (problem) runtime.protocolErrors.push(`error for ${id}: ${problem}`)
      settle(id, { outcome: 'error', error: parsed, errorTypeHeader: errorType })
    }
    return reply(response, 202, { status: 'OK' })
  }

  runtime.listen = function () {
    runtime.server = http.createServer((request, response) => {
      handle(request, response).catch((e) => {
        runtime.protocolErrors.push(`server error: ${e.message}`)
        reply(response, 500, { errorMessage: e.message, errorType: 'ServerError' })
      })
    })
    return new Promise((resolve, reject) => {
      runtime.server.once('error', reject)
      runtime.server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${runtime.server.address().port}`))
    })
  }

  // Queues one invocation; resolves when the function gives its outcome.
  runtime.invoke = function (payload) {
    return new Promise((resolve) => {
      const invocation = {
        requestId: crypto.randomUUID(),
        traceId: traceId(),
        body: typeof payload === 'string' ? payload : JSON.stringify(payload),
        resolve
      }
      runtime.invocations += 1
      if (waiting.length > 0) deliver(invocation, waiting.shift())
      else queue.push(invocation)
    })
  }

  // Settles every invocation still open or queued as lost (the function
  // died or went silent), so that nothing waits for ever.
  runtime.loseAll = function (why) {
    for (const id of [...open.keys()]) settle(id, { outcome: 'lost', why })
    while (queue.length > 0) queue.shift().resolve({ requestId: null, outcome: 'lost', why })
  }

  runtime.close = function () {
    for (const response of waiting.splice(0)) response.destroy()
    if (runtime.server) {
      runtime.server.closeAllConnections()
      runtime.server.close()
    }
  }
  return runtime
}

// Starts COMMAND as the function, with AWS_LAMBDA_RUNTIME_API set.  The
// returned child has .exited, a Promise of { code, signal }, and .output(),
// its stdout and stderr so far.
function spawnFunction(command, address, env) {
  const child = spawn(command[0], command.slice(1), {
    env: Object.assign({}, env, { AWS_LAMBDA_RUNTIME_API: address }),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stdout = []
  const stderr = []
  child.stdout.on('data', (chunk) => stdout.push(chunk))
  child.stderr.on('data', (chunk) => stderr.push(chunk))
  child.exited = new Promise((resolve) => {
    child.on('error', (e) => resolve({ code: null, signal: null, error: e.message }))
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  child.output = () => ({
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8')
  })
  return child
}

// Stops a child: SIGTERM, then SIGKILL if it lingers.
async function stopFunction(child) {
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  child.kill('SIGTERM')
  const status = await child.exited
  clearTimeout(timer)
  return status
}

// Splits argv at "--": options before it, the command after.
function parseArguments(argv) {
  const split = argv.indexOf('--')
  const optionArgs = split < 0 ? argv : argv.slice(0, split)
  const options = { command: split < 0 ? [] : argv.slice(split + 1), env: {}, clearEnv: false, giveUpSecs: 120 }
  for (let i = 0; i < optionArgs.length; i++) {
    const name = optionArgs[i]
    const value = optionArgs[i + 1]
    const take = () => {
      if (value === undefined) throw new Error(`${name} expects a value`)
      i += 1
      return value
    }
    if (name === '--events') options.events = JSON.parse(fs.readFileSync(take(), 'utf8'))
    else if (name === '--timeout-secs') options.timeoutSecs = Number(take())
    else if (name === '--give-up-secs') options.giveUpSecs = Number(take())
    else if (name === '--function-arn') options.functionArn = take()
    else if (name === '--address-file') options.addressFile = take()
    else if (name === '--stop-file') options.stopFile = take()
    else if (name === '--clear-env') options.clearEnv = true
    else if (name === '--env') {
      const text = take()
      const at = text.indexOf('=')
      if (at <= 0) throw new Error(`--env expects NAME=VALUE, got ${text}`)
      options.env[text.slice(0, at)] = text.slice(at + 1)
    } else throw new Error(`unknown option ${name}`)
  }
  if (!Array.isArray(options.events)) throw new Error('--events FILE (a JSON array) is required')
  if (options.command.length === 0 && !(options.addressFile && options.stopFile)) {
    throw new Error('give a command after --, or an --address-file and a --stop-file')
  }
  return options
}

async function main(argv) {
  const options = parseArguments(argv)
  const runtime = createRuntime(options)
  const address = await runtime.listen()
  let child = null
  let exit = null
  if (options.command.length > 0) {
    child = spawnFunction(options.command, address,
      Object.assign(options.clearEnv ? {} : process.env, options.env))
    child.exited.then((status) => {
      exit = status
      runtime.loseAll('the function exited')
    })
  } else {
    fs.writeFileSync(options.addressFile, address)
  }
  let gaveUp = false
  const giveUp = setTimeout(() => {
    gaveUp = true
    runtime.loseAll(`no outcome after ${options.giveUpSecs} s`)
  }, options.giveUpSecs * 1000)
  const invocations = []
  for (const event of options.events) {
    if (exit) break
    const result = await runtime.invoke(event)
    invocations.push(result)
    if (result.outcome === 'lost') break
  }
  while (options.stopFile && !gaveUp && !fs.existsSync(options.stopFile)) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  clearTimeout(giveUp)
  if (child && !exit) exit = await stopFunction(child)
  runtime.close()
  const report = {
    invocations,
    init_errors: runtime.initErrors,
    protocol_errors: runtime.protocolErrors,
    exit,
    stdout: child ? child.output().stdout : '',
    stderr: child ? child.output().stderr : ''
  }
  process.stdout.write(JSON.stringify(report) + '\n')
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`lambda_runtime.js: ${e.message}\n`)
    process.exit(2)
  })
}

module.exports = { createRuntime, spawnFunction, stopFunction }
