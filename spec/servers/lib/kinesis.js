'use strict'
// Kinesis: kinesalite runs in this process, in memory, on its own loopback
// port; requests reach it only through the signature check.  PutRecords can
// be made to fail in part, as Kinesis does under load.

const http = require('http')
const kinesalite = require('kinesalite')

const FORWARDED_HEADERS = ['content-type', 'x-amz-target', 'authorization', 'x-amz-date',
  'x-amz-security-token', 'host']

// Starts kinesalite on 127.0.0.1 with a short stream-creation delay; resolves to it.
function start(createMs) {
  const server = kinesalite({ createStreamMs: createMs, deleteStreamMs: createMs,
    updateStreamMs: createMs, shardLimit: 50 })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
      resolve({ server, port: server.address().port, agent })
    })
  })
}

// Sends `body` to kinesalite with the original request's headers;
// resolves to { status, headers, body }.
function forward(backend, req, body) {
  const headers = {}
  for (const name of FORWARDED_HEADERS) {
    if (req.headers[name] !== undefined) headers[name] = req.headers[name]
  }
  headers['content-length'] = body.length
  return new Promise((resolve, reject) => {
    const out = http.request({ host: '127.0.0.1', port: backend.port, method: 'POST', path: '/',
      headers, agent: backend.agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: { 'Content-Type': res.headers['content-type'] || 'application/x-amz-json-1.1' },
        body: Buffer.concat(chunks),
      }))
      res.on('error', reject)
    })
    out.on('error', reject)
    out.end(body)
  })
}

// The per-record error Kinesis reports for a record it did not take.
function recordError(code, streamName) {
  if (code === 'InternalFailure') return { ErrorCode: code, ErrorMessage: 'Internal service failure.' }
  return {
    ErrorCode: code,
    ErrorMessage: `Rate exceeded for shard shardId-000000000000 in stream ${streamName} ` +
      'under account 000000000000.',
  }
}

// PutRecords with a "partial" fault: every `fail_every`-th record (1-based)
// fails with the rule's code, the others go to kinesalite, and the answer
// puts both back in the original order.
async function partialPutRecords(backend, req, body, rule) {
  let input
  try {
    input = JSON.parse(body.toString('utf8'))
  } catch (err) {
    return forward(backend, req, body)    // let kinesalite answer the bad body
  }
  if (!input || !Array.isArray(input.Records) || input.Records.length === 0) {
    return forward(backend, req, body)
  }
  const code = rule.code || 'ProvisionedThroughputExceededException'
  const failing = input.Records.map((_, i) => (i + 1) % rule.fail_every === 0)
  const survivors = input.Records.filter((_, i) => !failing[i])
  let taken = []
  let failedByBackend = 0
  let extra = {}
  if (survivors.length > 0) {
    const sub = Buffer.from(JSON.stringify(Object.assign({}, input, { Records: survivors })))
    const answer = await forward(backend, req, sub)
    if (answer.status !== 200) return answer
    const parsed = JSON.parse(answer.body.toString('utf8'))
    taken = parsed.Records
    failedByBackend = parsed.FailedRecordCount || 0
    extra = parsed
  }
  const records = []
  let next = 0
  for (let i = 0; i < input.Records.length; i++) {
    records.push(failing[i] ? recordError(code, input.StreamName) : taken[next++])
  }
  const failedHere = failing.filter(Boolean).length
  const output = Object.assign({}, extra,
    { FailedRecordCount: failedHere + failedByBackend, Records: records })
  return {
    status: 200,
    headers: { 'Content-Type': 'application/x-amz-json-1.1' },
    body: Buffer.from(JSON.stringify(output)),
  }
}

module.exports = { start, forward, partialPutRecords }
