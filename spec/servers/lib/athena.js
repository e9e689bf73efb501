'use strict'
// Amazon Athena's query API, emulated in memory: StartQueryExecution,
// GetQueryExecution, BatchGetQueryExecution, GetQueryResults and
// StopQueryExecution, validating requests as Athena does, with each query's
// life decided by the script it matches (see ../README.md).

const crypto = require('crypto')
const { ApiError } = require('./protocol')
const results = require('./results')

const FINAL_STATES = ['SUCCEEDED', 'FAILED', 'CANCELLED']
const TERMINAL = new Set(FINAL_STATES)
const MAX_QUERY_BYTES = 262144
const DEFAULT_OUTPUT = 's3://streamquery-test-athena-results/'

// An InvalidRequestException, Athena's answer to a request it refuses.
function invalid(message) {
  return new ApiError(400, 'InvalidRequestException', message, { AthenaErrorCode: 'INVALID_INPUT' })
}

// Checks an optional string field's length (in characters); returns it.
function stringField(input, name, min, max, required) {
  const value = input[name]
  if (value === undefined || value === null) {
    if (required) throw invalid(`${name} is required`)
    return undefined
  }
  if (typeof value !== 'string') throw invalid(`${name} must be a string`)
  if (value.length < min || value.length > max) {
    throw invalid(`${name} must be ${min} to ${max} characters long, got ${value.length}`)
  }
  return value
}

// Checks an optional object field; returns it or an empty object.
function objectField(input, name) {
  const value = input[name]
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be an object`)
  return value
}

// JSON with object keys sorted, to compare two requests.
function canonicalJson(value) {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']'
  if (value && typeof value === 'object') {
    return '{' + Object.keys(value).sort()
      .map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}'
  }
  return JSON.stringify(value)
}

// Checks a non-negative integer script field, with its default.
function scriptInteger(spec, name, fallback, min) {
  const value = spec[name] === undefined ? fallback : spec[name]
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`script field ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

// Validates a script from the control API and returns it as kept.
function makeScript(spec, index) {
  if (typeof spec !== 'object' || spec === null) throw new Error(`script ${index + 1} must be an object`)
  try {
    if (spec.match !== undefined && typeof spec.match !== 'string') {
      throw new Error('match must be a string')
    }
    const final = spec.final === undefined ? 'SUCCEEDED' : spec.final
    if (!FINAL_STATES.includes(final)) {
      throw new Error(`final must be one of ${FINAL_STATES.join(', ')}, got ${JSON.stringify(final)}`)
    }
    if (spec.reason !== undefined && typeof spec.reason !== 'string') {
      throw new Error('reason must be a string')
    }
    let startError = null
    if (spec.start_error !== undefined) {
      const e = spec.start_error
      if (typeof e !== 'object' || e === null) throw new Error('start_error must be an object')
      startError = {
        code: e.code === undefined ? 'TooManyRequestsException' : String(e.code),
        status: scriptInteger(e, 'status', 400, 100),
        left: scriptInteger(e, 'times', 1, 1),
        message: e.message === undefined ? 'Too many queries are already running' : String(e.message),
      }
    }
    return {
      index: index + 1,
      match: spec.match,
      queuedPolls: scriptInteger(spec, 'queued_polls', 0, 0),
      runningPolls: scriptInteger(spec, 'running_polls', 0, 0),
      final,
      reason: spec.reason,
      dataScanned: scriptInteger(spec, 'data_scanned', 0, 0),
      executionMs: scriptInteger(spec, 'execution_ms', 0, 0),
      startError,
      source: results.source(spec.result),
    }
  } catch (err) {
    throw new Error(`script ${index + 1}${spec.match ? ` (match "${spec.match}")` : ''}: ${err.message}`)
  }
}

const DEFAULT_SCRIPT = makeScript({}, -1)

class Athena {
  // `options.athenaRate` is StartQueryExecution's rate (0: unlimited).
  constructor(options, stats) {
    this.options = options
    this.stats = stats
    this.reset()
  }

  // Forgets every query and script; the rate is the command line's again.
  reset() {
    this.queries = new Map()
    this.byToken = new Map()
    this.scripts = []
    this.setRate(this.options.athenaRate)
  }

  // Sets StartQueryExecution's rate per second (0: unlimited); the bucket
  // holds at most one second of requests, and at least one.
  setRate(rate) {
    this.rate = rate
    this.bucket = { tokens: Math.max(1, rate), at: Date.now() }
  }

  // Installs scripts (replacing the old ones unless `append`).
  setScripts(specs, append) {
    if (!Array.isArray(specs)) throw new Error('"scripts" must be a list')
    const offset = append ? this.scripts.length : 0
    const scripts = specs.map((s, i) => makeScript(s, offset + i))
    this.scripts = append ? this.scripts.concat(scripts) : scripts
    return this.scripts.length
  }

  // The first script whose match occurs in the query text, or the default.
  scriptFor(queryString) {
    return this.scripts.find((s) => s.match === undefined || queryString.includes(s.match)) ||
      DEFAULT_SCRIPT
  }

  // Takes one StartQueryExecution from the rate's token bucket.
  allowStart() {
    if (!this.rate) return true
    const now = Date.now()
    const b = this.bucket
    b.tokens = Math.min(Math.max(1, this.rate), b.tokens + ((now - b.at) / 1000) * this.rate)
    b.at = now
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  // Answers one Athena operation with its output, or throws an ApiError.
  handle(operation, input) {
    switch (operation) {
      case 'StartQueryExecution': return this.start(input)
      case 'GetQueryExecution': return this.getOne(input)
      case 'BatchGetQueryExecution': return this.getBatch(input)
      case 'GetQueryResults': return this.getResults(input)
      case 'StopQueryExecution': return this.stop(input)
      default:
        throw new ApiError(400, 'UnknownOperationException',
          `This test server does not implement AmazonAthena.${operation}`)
    }
  }

  // StartQueryExecution: validates, applies idempotency, then starts a query.
  start(input) {
    if (!this.allowStart()) {
      this.stats.throttled += 1
      this.stats.athenaRateThrottled += 1
      throw new ApiError(400, 'ThrottlingException', 'Rate exceeded for StartQueryExecution')
    }
    const query = input.QueryString
    if (typeof query !== 'string') throw invalid('QueryString is required')
    const bytes = Buffer.byteLength(query, 'utf8')
    if (bytes < 1 || bytes > MAX_QUERY_BYTES) {
      throw invalid(`QueryString must be 1 to ${MAX_QUERY_BYTES} bytes long, got ${bytes}`)
    }
    const token = stringField(input, 'ClientRequestToken', 32, 128, true)
    const context = objectField(input, 'QueryExecutionContext')
    const database = stringField(context, 'Database', 1, 255, false)
    const catalog = stringField(context, 'Catalog', 1, 256, false)
    const workgroup = stringField(input, 'WorkGroup', 1, 128, false)
    if (workgroup !== undefined && !/^[a-zA-Z0-9._-]+$/.test(workgroup)) {
      throw invalid(`WorkGroup "${workgroup}" may hold only letters, digits, ".", "_" and "-"`)
    }
    const output = objectField(input, 'ResultConfiguration').OutputLocation
    if (output !== undefined && typeof output !== 'string') {
      throw invalid('ResultConfiguration.OutputLocation must be a string')
    }
    const fingerprint = canonicalJson(Object.assign({}, input, { ClientRequestToken: null }))
    const earlier = this.byToken.get(token)
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) {
        throw invalid('ClientRequestToken was already used by a different request')
      }
      return { QueryExecutionId: earlier.id }
    }
    const script = this.scriptFor(query)
    if (script.startError && script.startError.left > 0) {
      const e = script.startError
      e.left -= 1
      if (/Throttl|TooManyRequests/.test(e.code)) this.stats.throttled += 1
      throw new ApiError(e.status, e.code, e.message)
    }
    const q = {
      id: crypto.randomUUID(),
      query,
      token,
      fingerprint,
      database,
      catalog,
      workgroup: workgroup === undefined ? 'primary' : workgroup,
      outputLocation: output,
      script,
      state: 'QUEUED',
      polls: 0,
      reason: undefined,
      submittedAt: Date.now(),
      completedAt: undefined,
      tokenByOffset: new Map(),
      offsetByToken: new Map(),
      pagesServed: 0,
    }
    this.queries.set(q.id, q)
    this.byToken.set(token, q)
    return { QueryExecutionId: q.id }
  }

  // The query of a validated id, or an InvalidRequestException.
  find(id) {
    const q = this.queries.get(id)
    if (!q) throw invalid(`Query execution ${id} was not found`)
    return q
  }

  // One status check of a query: it moves along its script.
  poll(q) {
    q.polls += 1
    if (TERMINAL.has(q.state)) return
    const s = q.script
    if (q.polls <= s.queuedPolls) {
      q.state = 'QUEUED'
    } else if (q.polls <= s.queuedPolls + s.runningPolls) {
      q.state = 'RUNNING'
    } else {
      q.state = s.final
      q.completedAt = Date.now()
      if (s.final === 'FAILED') q.reason = s.reason || 'Query failed (scripted by the test)'
      else if (s.reason !== undefined) q.reason = s.reason
    }
  }

  // A query in the shape of Athena's QueryExecution.
  describe(q) {
    const done = TERMINAL.has(q.state)
    let location = q.outputLocation === undefined ? DEFAULT_OUTPUT : q.outputLocation
    if (!location.endsWith('/')) location += '/'
    const status = { State: q.state, SubmissionDateTime: q.submittedAt / 1000 }
    if (q.reason !== undefined) status.StateChangeReason = q.reason
    if (done) status.CompletionDateTime = q.completedAt / 1000
    if (q.state === 'FAILED') {
      status.AthenaError = { ErrorCategory: 2, ErrorType: 1000, Retryable: false, ErrorMessage: q.reason }
    }
    const context = {}
    if (q.database !== undefined) context.Database = q.database
    if (q.catalog !== undefined) context.Catalog = q.catalog
    return {
      QueryExecutionId: q.id,
      Query: q.query,
      StatementType: 'DML',
      ResultConfiguration: { OutputLocation: `${location}${q.id}.csv` },
      QueryExecutionContext: context,
      Status: status,
      Statistics: {
        EngineExecutionTimeInMillis: done ? q.script.executionMs : 0,
        DataScannedInBytes: done ? q.script.dataScanned : 0,
        TotalExecutionTimeInMillis: done ? q.script.executionMs : 0,
        QueryQueueTimeInMillis: 0,
      },
      WorkGroup: q.workgroup,
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    }
  }

  // GetQueryExecution: one status check.
  getOne(input) {
    const id = stringField(input, 'QueryExecutionId', 1, 128, true)
    const q = this.find(id)
    this.poll(q)
    return { QueryExecution: this.describe(q) }
  }

  // BatchGetQueryExecution: 1 to 50 ids; unknown ones are reported unprocessed.
  getBatch(input) {
    const ids = input.QueryExecutionIds
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 50) {
      throw invalid(`QueryExecutionIds must hold 1 to 50 ids, got ${Array.isArray(ids) ? ids.length : 'none'}`)
    }
    const found = []
    const unprocessed = []
    for (const id of ids) {
      if (typeof id !== 'string' || id.length < 1 || id.length > 128) {
        throw invalid('each of QueryExecutionIds must be a string of 1 to 128 characters')
      }
      const q = this.queries.get(id)
      if (q) {
        this.poll(q)
        found.push(this.describe(q))
      } else {
        unprocessed.push({
          QueryExecutionId: id,
          ErrorCode: 'INVALID_INPUT',
          ErrorMessage: `Query execution ${id} was not found`,
        })
      }
    }
    return { QueryExecutions: found, UnprocessedQueryExecutionIds: unprocessed }
  }

  // GetQueryResults: one page; the first row of the first page is the header.
  getResults(input) {
    const id = stringField(input, 'QueryExecutionId', 1, 128, true)
    let max = 1000
    if (input.MaxResults !== undefined && input.MaxResults !== null) {
      max = input.MaxResults
      if (!Number.isInteger(max) || max < 1 || max > 1000) {
        throw invalid(`MaxResults must be an integer from 1 to 1000, got ${JSON.stringify(max)}`)
      }
    }
    const next = stringField(input, 'NextToken', 1, 1024, false)
    const q = this.find(id)
    if (q.state !== 'SUCCEEDED') {
      if (TERMINAL.has(q.state)) {
        throw invalid(`Query did not succeed; its final state is ${q.state}` +
          (q.reason ? `: ${q.reason}` : ''))
      }
      throw invalid(`Query has not finished yet; its state is ${q.state}`)
    }
    let offset = 0
    if (next !== undefined) {
      if (!q.offsetByToken.has(next)) throw invalid('NextToken was not issued for this query')
      offset = q.offsetByToken.get(next)
    }
    const source = q.script.source
    const total = source.rowCount + 1
    const rows = []
    let first = offset
    if (offset === 0) {
      rows.push({ Data: source.columns.map((c) => ({ VarCharValue: c.name })) })
      first = 1
    }
    const end = Math.min(total, offset + max)
    for (const values of source.rows(first - 1, end - first)) {
      rows.push({ Data: values.map((v) => (v === null ? {} : { VarCharValue: v })) })
    }
    q.pagesServed += 1
    const output = {
      ResultSet: {
        Rows: rows,
        ResultSetMetadata: {
          ColumnInfo: source.columns.map((c) => ({
            CatalogName: 'hive', SchemaName: '', TableName: '', Name: c.name, Label: c.name,
            Type: c.type, Precision: c.type === 'varchar' ? 2147483647 : 0, Scale: 0,
            Nullable: 'UNKNOWN', CaseSensitive: c.type === 'varchar',
          })),
        },
      },
      UpdateCount: 0,
    }
    if (end < total) output.NextToken = this.tokenFor(q, end)
    return output
  }

  // The NextToken of a page offset of a query (the same token for the same offset).
  tokenFor(q, offset) {
    let token = q.tokenByOffset.get(offset)
    if (token === undefined) {
      token = crypto.randomBytes(48).toString('base64')
      q.tokenByOffset.set(offset, token)
      q.offsetByToken.set(token, offset)
    }
    return token
  }

  // StopQueryExecution: a queued or running query becomes CANCELLED.
  stop(input) {
    const id = stringField(input, 'QueryExecutionId', 1, 128, true)
    const q = this.find(id)
    if (!TERMINAL.has(q.state)) {
      q.state = 'CANCELLED'
      q.reason = 'Query was cancelled by StopQueryExecution'
      q.completedAt = Date.now()
    }
    return {}
  }

  // Every started query, for GET /__control/athena/queries.
  list() {
    return Array.from(this.queries.values(), (q) => ({
      id: q.id,
      query: q.query,
      token: q.token,
      database: q.database === undefined ? null : q.database,
      catalog: q.catalog === undefined ? null : q.catalog,
      workgroup: q.workgroup,
      output_location: q.outputLocation === undefined ? null : q.outputLocation,
      state: q.state,
      polls: q.polls,
      script: q.script.index,
      pages_served: q.pagesServed,
    }))
  }
}

module.exports = { Athena }
