'use strict'
// Command-line options of the test server (see ../README.md).

const DEFAULT_CREDENTIALS = 'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'

const USAGE = `usage: node aws.js [options]
  --port N                  listen on 127.0.0.1:N (0, the default, picks a free port)
  --tls                     serve HTTPS with a throwaway CA (its file is in the ready line)
  --credentials AK:SK[:TK]  accepted credentials (repeatable; TK must come as X-Amz-Security-Token)
  --region R                the region requests must be scoped to (us-east-1)
  --latency-ms N            added to every AWS response
  --kinesis                 run kinesalite in memory behind the signature check
  --kinesis-create-ms N     kinesalite's CreateStream/DeleteStream delay (50)
  --athena-rate N           StartQueryExecution requests per second before throttling (off)
  --web-identity-token V    the token AssumeRoleWithWebIdentity accepts
  --sts-duration S          life of issued credentials, seconds (as requested, 3600)
  --role-name NAME          the instance-metadata role name (streamquery-test-role)
  --container-path PATH     the container credentials path (/creds)
  --container-token T       the Authorization value the container endpoint requires
  --ignore-stdin            keep running when stdin closes (for manual use)`

// Splits "AKID:SECRET[:TOKEN]"; a secret or token never holds a colon.
function parseCredentials(text) {
  const first = text.indexOf(':')
  if (first <= 0) throw new Error(`--credentials expects AKID:SECRET[:TOKEN], got "${text.split(':')[0]}..."`)
  const accessKeyId = text.slice(0, first)
  const rest = text.slice(first + 1)
  const second = rest.indexOf(':')
  const secretAccessKey = second < 0 ? rest : rest.slice(0, second)
  const sessionToken = second < 0 ? null : rest.slice(second + 1)
  if (secretAccessKey === '' || sessionToken === '') {
    throw new Error(`--credentials for ${accessKeyId}: empty secret or token`)
  }
  return { accessKeyId, secretAccessKey, sessionToken }
}

// Reads a non-negative integer option value or throws naming the option.
function integer(name, value) {
  if (value === undefined || !/^\d+$/.test(value)) {
    throw new Error(`${name} expects a non-negative integer, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

// Reads a string option value or throws naming the option.
function string(name, value) {
  if (value === undefined || value === '') throw new Error(`${name} expects a value`)
  return value
}

// Parses argv (without node and the script) into an options object.
function parse(argv) {
  const options = {
    port: 0,
    tls: false,
    credentials: [],
    region: 'us-east-1',
    latencyMs: 0,
    kinesis: false,
    kinesisCreateMs: 50,
    athenaRate: 0,
    webIdentityToken: null,
    stsDuration: null,
    roleName: 'streamquery-test-role',
    containerPath: '/creds',
    containerToken: null,
    ignoreStdin: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]
    const next = () => argv[++i]
    switch (name) {
      case '--port': options.port = integer(name, next()); break
      case '--tls': options.tls = true; break
      case '--credentials': options.credentials.push(parseCredentials(string(name, next()))); break
      case '--region': options.region = string(name, next()); break
      case '--latency-ms': options.latencyMs = integer(name, next()); break
      case '--kinesis': options.kinesis = true; break
      case '--kinesis-create-ms': options.kinesisCreateMs = integer(name, next()); break
      case '--athena-rate': options.athenaRate = integer(name, next()); break
      case '--web-identity-token': options.webIdentityToken = string(name, next()); break
      case '--sts-duration': options.stsDuration = integer(name, next()); break
      case '--role-name': options.roleName = string(name, next()); break
      case '--container-path': options.containerPath = string(name, next()); break
      case '--container-token': options.containerToken = string(name, next()); break
      case '--ignore-stdin': options.ignoreStdin = true; break
      case '--help': case '-h': throw new Error(USAGE)
      default: throw new Error(`unknown option ${JSON.stringify(name)}\n${USAGE}`)
    }
  }
  if (options.credentials.length === 0) options.credentials.push(parseCredentials(DEFAULT_CREDENTIALS))
  if (!options.containerPath.startsWith('/')) throw new Error('--container-path must start with /')
  return options
}

module.exports = { parse, parseCredentials, DEFAULT_CREDENTIALS }
