'use strict'
// Cold start of the Lambda bootstrap, for `make bench`: the time from
// spawning COMMAND (bin/host lambda ...) to its first
// GET /2018-06-01/runtime/invocation/next at the Runtime API test server
// (spec/servers/lambda_runtime.js), and the bootstrap's resident memory at
// that moment, read from /proc/PID/status.  No invocation is ever queued:
// the bootstrap is stopped while it waits for its first one.
//
//   node cold_start.js --runs N [--env NAME=VALUE]... -- COMMAND [ARG...]
//
// Prints one JSON line: {"runs": [{"ms": 12.3, "cpu_ms": 9.1,
// "rss_kib": 11000, "hwm_kib": 11200}, ...]}.  COMMAND gets only the --env variables, PATH
// and AWS_LAMBDA_RUNTIME_API.
const fs = require('fs')
const path = require('path')
const { createRuntime, spawnFunction, stopFunction } =
  require(path.join(__dirname, '..', 'servers', 'lambda_runtime.js'))

const NEXT = '/2018-06-01/runtime/invocation/next'
const GIVE_UP_MS = 10000

// Reads VmRSS and VmHWM (KiB) of a process, and the CPU time it has used
// (ms, from /proc/PID/schedstat, in nanoseconds there).
function usage(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return match ? Number(match[1]) : null
  }
  const cpuNs = Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
  return { cpu_ms: cpuNs / 1e6, rss_kib: field('VmRSS'), hwm_kib: field('VmHWM') }
}

// One cold start: resolves to { ms, cpu_ms, rss_kib, hwm_kib }.
async function once(command, env) {
  const runtime = createRuntime({})
  const address = await runtime.listen()
  const first = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `no ${NEXT} within ${GIVE_UP_MS} ms`)), GIVE_UP_MS)
    // A second listener beside the test server's own: it only notes the time.
    runtime.server.on('request', (request) => {
      if (request.method === 'GET' && request.url === NEXT) {
        clearTimeout(timer)
        resolve(process.hrtime.bigint())
      }
    })
  })
  const started = process.hrtime.bigint()
  const child = spawnFunction(command, address, env)
  let result
  try {
    const at = await Promise.race([first, child.exited.then((status) => {
      throw new Error(`the bootstrap exited (${JSON.stringify(status)}): ` +
        child.output().stderr.slice(-2000))
    })])
    result = Object.assign({ ms: Number(at - started) / 1e6 }, usage(child.pid))
  } finally {
    await stopFunction(child)
    runtime.close()
  }
  return result
}

// Parses: --runs N, --env NAME=VALUE (repeatable), -- COMMAND...
function parse(argv) {
  const split = argv.indexOf('--')
  if (split < 0 || split === argv.length - 1) throw new Error('give a command after --')
  const options = { runs: 5, env: { PATH: process.env.PATH }, command: argv.slice(split + 1) }
  const args = argv.slice(0, split)
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1]
    if (value === undefined) throw new Error(`${args[i]} expects a value`)
    if (args[i] === '--runs') {
      options.runs = Number(value)
    } else if (args[i] === '--env') {
      const at = value.indexOf('=')
      if (at <= 0) throw new Error(`--env expects NAME=VALUE, got ${value}`)
      options.env[value.slice(0, at)] = value.slice(at + 1)
    } else {
      throw new Error(`unknown option ${args[i]}`)
    }
  }
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs must be >= 1')
  return options
}

async function main() {
  const options = parse(process.argv.slice(2))
  const runs = []
  for (let i = 0; i < options.runs; i++) runs.push(await once(options.command, options.env))
  process.stdout.write(JSON.stringify({ runs }) + '\n')
}

main().catch((err) => {
  process.stderr.write(`cold_start.js: ${err.message}\n`)
  process.exit(1)
})
