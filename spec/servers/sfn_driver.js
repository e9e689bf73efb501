'use strict'
// Plays a Step Functions state machine the way the service runs it, for the
// end-to-end specs: the Task states invoke a bootstrap through the Runtime
// API test server (lambda_runtime.js).
//
//   node sfn_driver.js --definition FILE --input FILE --function-arn ARN
//                      [options] -- COMMAND [ARG...]
//     --execution-name N       the execution's name (a fresh UUID)
//     --timeout-secs N         the function's timeout (60)
//     --service-errors N       the first N invocations fail with
//                              Lambda.ServiceException before reaching the
//                              function, as a Lambda outage would
//     --max-transitions N      give up after N state transitions (1000)
//     --clear-env, --env NAME=VALUE   as lambda_runtime.js
//
// It prints one JSON document: { status: SUCCEEDED | FAILED | TIMED_OUT,
// output, error, cause, history: [...], invocations, waited_secs (in Wait
// states and between retries), runtime: { init_errors, protocol_errors,
// exit, stderr } }.
//
// Supported: Task (Resource = the function ARN: the function's response is
// the result, its errorType the error name), Choice, Wait (Seconds), Pass,
// Succeed, Fail (Error, Cause, ErrorPath, CausePath); InputPath,
// Parameters (with ".$" keys and the context object "$$."), ResultPath,
// OutputPath; Retry and Catch; the machine's TimeoutSeconds. Paths are
// "$", "$.a.b" and "$$.a.b". Anything else in the definition (a field, a
// state type, a comparison, a path) is refused with an error: the player
// never guesses. Time is simulated: a Wait or a retry interval adds to the
// execution's clock instead of sleeping, and each invocation adds the time
// it really took.
const crypto = require('crypto')
const fs = require('fs')
const { createRuntime, spawnFunction, stopFunction } = require('./lambda_runtime')

const PAYLOAD_LIMIT = 256 * 1024 // Step Functions' limit on a state's input and output
const ACCOUNT = '123456789012'
const REGION = 'us-east-1'

const TOP_FIELDS = ['Comment', 'StartAt', 'States', 'TimeoutSeconds', 'Version']
const STATE_FIELDS = {
  Task: ['Type', 'Comment', 'Resource', 'InputPath', 'Parameters', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End'],
  Choice: ['Type', 'Comment', 'InputPath', 'OutputPath', 'Choices', 'Default'],
  Wait: ['Type', 'Comment', 'InputPath', 'OutputPath', 'Seconds', 'Next', 'End'],
  Pass: ['Type', 'Comment', 'InputPath', 'Parameters', 'Result', 'ResultPath', 'OutputPath', 'Next', 'End'],
  Succeed: ['Type', 'Comment', 'InputPath', 'OutputPath'],
  Fail: ['Type', 'Comment', 'Error', 'Cause', 'ErrorPath', 'CausePath']
}
const RETRY_FIELDS = ['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate']
const CATCH_FIELDS = ['ErrorEquals', 'ResultPath', 'Next']
const COMPARISONS = {
  NumericEquals: (a, b) => typeof a === 'number' && a === b,
  NumericGreaterThan: (a, b) => typeof a === 'number' && a > b,
  NumericLessThan: (a, b) => typeof a === 'number' && a < b,
  StringEquals: (a, b) => typeof a === 'string' && a === b,
  BooleanEquals: (a, b) => typeof a === 'boolean' && a === b,
  IsPresent: (a, b) => (a !== undefined) === b
}

// An error of the execution, named as Step Functions names it.
class StatesError extends Error {
  constructor(name, cause) {
    super(`${name}: ${cause}`)
    this.errorName = name
    this.cause = cause
  }
}

// A definition the player does not understand: ends the run as a failure
// of the test, not of the execution.
class Unsupported extends Error {}

function checkFields(where, object, allowed) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new Unsupported(`${where} is not an object`)
  }
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw new Unsupported(`${where}: unknown field ${key}`)
  }
}

// Splits a path "$.a.b" or "$$.a.b" into its root and keys.
function parsePath(path) {
  const match = /^(\$\$?)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(path)
  if (!match) throw new Unsupported(`unsupported path ${JSON.stringify(path)}`)
  return { context: match[1] === '$$', keys: match[2] === '' ? [] : match[2].slice(1).split('.') }
}

// Reads a path of data (or of the context object); undefined when absent.
function readPath(path, data, context) {
  const { context: fromContext, keys } = parsePath(path)
  let value = fromContext ? context : data
  for (const key of keys) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !(key in value)) return undefined
    value = value[key]
  }
  return value
}

// Like readPath, but a missing value is the error Step Functions raises.
function selectPath(path, data, context, state) {
  const value = readPath(path, data, context)
  if (value === undefined) {
    throw new StatesError('States.Runtime', `in state ${state}: the path ${path} matches nothing in the input`)
  }
  return value
}

// Builds Parameters: keys ending in ".$" take the value at their path.
function buildParameters(template, data, context, state) {
  if (Array.isArray(template)) return template
  if (template === null || typeof template !== 'object') return template
  const result = {}
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw new Unsupported(`${state}: ${key} must be a path`)
      result[key.slice(0, -2)] = selectPath(value, data, context, state)
    } else {
      result[key] = buildParameters(value, data, context, state)
    }
  }
  return result
}

// Applies ResultPath: the result replaces the input ("$"), is dropped
// (null), or is placed at a path inside a copy of the input.
function applyResultPath(resultPath, input, result, state) {
  if (resultPath === undefined || resultPath === '$') return result
  if (resultPath === null) return input
  const { context, keys } = parsePath(resultPath)
  if (context) throw new Unsupported(`${state}: ResultPath cannot name the context object`)
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new StatesError('States.Runtime', `in state ${state}: ResultPath ${resultPath} needs an object input`)
  }
  const output = JSON.parse(JSON.stringify(input))
  let target = output
  for (const key of keys.slice(0, -1)) {
    if (target[key] === null || typeof target[key] !== 'object') target[key] = {}
    target = target[key]
  }
  target[keys[keys.length - 1]] = result
  return output
}

function inputOf(state, name, data, context) {
  if (state.InputPath === null) return {}
  return state.InputPath === undefined ? data : selectPath(state.InputPath, data, context, name)
}

function outputOf(state, name, data, context) {
  if (state.OutputPath === null) return {}
  return state.OutputPath === undefined ? data : selectPath(state.OutputPath, data, context, name)
}

// Evaluates one Choice rule (with And, Or, Not).
function matches(rule, data, context, state) {
  const keys = Object.keys(rule).filter((k) => k !== 'Next')
  if (rule.And) return rule.And.every((r) => matches(r, data, context, state))
  if (rule.Or) return rule.Or.some((r) => matches(r, data, context, state))
  if (rule.Not) return !matches(rule.Not, data, context, state)
  const operators = keys.filter((k) => k !== 'Variable')
  if (typeof rule.Variable !== 'string' || operators.length !== 1 || !COMPARISONS[operators[0]]) {
    throw new Unsupported(`${state}: unsupported choice rule ${JSON.stringify(rule)}`)
  }
  const value = readPath(rule.Variable, data, context)
  if (value === undefined && operators[0] !== 'IsPresent') {
    throw new StatesError('States.Runtime', `in state ${state}: invalid path ${rule.Variable}: it matches nothing`)
  }
  return COMPARISONS[operators[0]](value, rule[operators[0]])
}

function errorMatches(list, name) {
  return list.includes(name) || list.includes('States.ALL') ||
    (list.includes('States.TaskFailed') && !name.startsWith('States.'))
}

function checkSize(what, value, state) {
  const size = Buffer.byteLength(JSON.stringify(value === undefined ? null : value))
  if (size > PAYLOAD_LIMIT) {
    throw new StatesError('States.DataLimitExceeded', `the ${what} of state ${state} is ${size} bytes, over ${PAYLOAD_LIMIT}`)
  }
}

// Checks the whole definition before running any of it.
function checkDefinition(definition, functionArn) {
  checkFields('the definition', definition, TOP_FIELDS)
  if (!definition.States || !definition.States[definition.StartAt]) throw new Unsupported('StartAt names no state')
  for (const [name, state] of Object.entries(definition.States)) {
    const allowed = STATE_FIELDS[state.Type]
    if (!allowed) throw new Unsupported(`state ${name}: unsupported Type ${state.Type}`)
    checkFields(`state ${name}`, state, allowed)
    for (const next of [state.Next, state.Default, ...(state.Choices || []).map((c) => c.Next), ...(state.Catch || []).map((c) => c.Next)]) {
      if (next !== undefined && !definition.States[next]) throw new Unsupported(`state ${name}: no state ${next}`)
    }
    if (state.Type === 'Task' && state.Resource !== functionArn) {
      throw new Unsupported(`state ${name}: Resource ${state.Resource} is not the function ${functionArn}`)
    }
    if (state.Type === 'Wait' && !Number.isInteger(state.Seconds)) throw new Unsupported(`state ${name}: Seconds must be an integer`)
    for (const retrier of state.Retry || []) checkFields(`state ${name}: a Retry`, retrier, RETRY_FIELDS)
    for (const catcher of state.Catch || []) checkFields(`state ${name}: a Catch`, catcher, CATCH_FIELDS)
    for (const field of ['InputPath', 'OutputPath', 'ResultPath', 'ErrorPath', 'CausePath']) {
      if (typeof state[field] === 'string') parsePath(state[field])
    }
  }
}

// Runs one execution.  invoke(payload) -> Promise of the runtime outcome.
async function execute(definition, input, invoke, options) {
  const startTime = new Date()
  const name = options.executionName
  const machine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:streamquery`
  const context = {
    Execution: {
      Id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:streamquery:${name}`,
      Name: name,
      Input: input,
      StartTime: startTime.toISOString()
    },
    StateMachine: { Id: machine, Name: 'streamquery' },
    State: {}
  }
  const history = []
  let clock = 0 // simulated seconds since the start
  let waited = 0 // of which in Wait states and between retries
  let serviceErrors = options.serviceErrors
  let invocations = 0
  let current = definition.StartAt
  let data = input
  const timeout = definition.TimeoutSeconds

  const elapse = (seconds, waiting) => {
    clock += seconds
    if (waiting) waited += seconds
    if (timeout !== undefined && clock > timeout) {
      throw new StatesError('States.Timeout', `the execution ran past TimeoutSeconds (${timeout})`)
    }
  }

  // Invokes the function once: its response, or a StatesError.
  async function runTask(parameters) {
    invocations += 1
    if (serviceErrors > 0) {
      serviceErrors -= 1
      throw new StatesError('Lambda.ServiceException', 'injected by the test: the Lambda service failed')
    }
    const began = Date.now()
    const outcome = await invoke(parameters)
    elapse((Date.now() - began) / 1000)
    if (outcome.outcome === 'response') return outcome.response
    if (outcome.outcome === 'error') {
      const body = outcome.error || {}
      throw new StatesError(body.errorType || 'Lambda.Unknown', JSON.stringify(body))
    }
    throw new StatesError('Lambda.Unknown', outcome.why || 'the function gave no outcome')
  }

  try {
    for (let transitions = 0; ; transitions++) {
      if (transitions >= options.maxTransitions) throw new Unsupported(`more than ${options.maxTransitions} transitions`)
      const state = definition.States[current]
      context.State = { Name: current, EnteredTime: new Date(startTime.getTime() + clock * 1000).toISOString(), RetryCount: 0 }
      checkSize('input', data, current)
      const entry = { state: current, type: state.Type, at_secs: Math.round(clock) }
      history.push(entry)
      const effective = inputOf(state, current, data, context)
      let next = state.Next
      let output
      if (state.Type === 'Pass') {
        const parameters = state.Parameters === undefined ? effective : buildParameters(state.Parameters, effective, context, current)
        const result = state.Result !== undefined ? state.Result : parameters
        output = outputOf(state, current, applyResultPath(state.ResultPath, data, result, current), context)
      } else if (state.Type === 'Task') {
        const parameters = state.Parameters === undefined ? effective : buildParameters(state.Parameters, effective, context, current)
        checkSize('task input', parameters, current)
        const attempts = (state.Retry || []).map(() => 0)
        for (;;) {
          try {
            const result = await runTask(parameters)
            checkSize('task result', result, current)
            output = outputOf(state, current, applyResultPath(state.ResultPath, data, result, current), context)
            break
          } catch (e) {
            if (!(e instanceof StatesError)) throw e
            entry.errors = (entry.errors || []).concat(e.errorName)
            const at = (state.Retry || []).findIndex((r) => errorMatches(r.ErrorEquals, e.errorName))
            const retrier = at >= 0 ? state.Retry[at] : null
            const maxAttempts = retrier && retrier.MaxAttempts !== undefined ? retrier.MaxAttempts : 3
            if (retrier && attempts[at] < maxAttempts) {
              const interval = retrier.IntervalSeconds !== undefined ? retrier.IntervalSeconds : 1
              const rate = retrier.BackoffRate !== undefined ? retrier.BackoffRate : 2
              elapse(interval * Math.pow(rate, attempts[at]), true)
              attempts[at] += 1
              context.State.RetryCount += 1
              continue
            }
            const catcher = (state.Catch || []).find((c) => errorMatches(c.ErrorEquals, e.errorName))
            if (!catcher) throw e
            entry.caught = e.errorName
            output = applyResultPath(catcher.ResultPath, data, { Error: e.errorName, Cause: e.cause }, current)
            next = catcher.Next
            break
          }
        }
      } else if (state.Type === 'Choice') {
        const rule = state.Choices.find((r) => matches(r, effective, context, current))
        next = rule ? rule.Next : state.Default
        if (next === undefined) throw new StatesError('States.NoChoiceMatched', `no choice of ${current} matched`)
        output = outputOf(state, current, effective, context)
      } else if (state.Type === 'Wait') {
        elapse(state.Seconds, true)
        output = outputOf(state, current, effective, context)
      } else if (state.Type === 'Succeed') {
        output = outputOf(state, current, effective, context)
        return { status: 'SUCCEEDED', output, history, invocations, waited_secs: waited }
      } else if (state.Type === 'Fail') {
        const error = state.ErrorPath ? readPath(state.ErrorPath, data, context) : state.Error
        const cause = state.CausePath ? readPath(state.CausePath, data, context) : state.Cause
        return { status: 'FAILED', error, cause, history, invocations, waited_secs: waited }
      }
      checkSize('output', output, current)
      if (state.End) return { status: 'SUCCEEDED', output, history, invocations, waited_secs: waited }
      data = output
      current = next
    }
  } catch (e) {
    if (!(e instanceof StatesError)) throw e
    const status = e.errorName === 'States.Timeout' ? 'TIMED_OUT' : 'FAILED'
    return { status, error: e.errorName, cause: e.cause, history, invocations, waited_secs: waited }
  }
}

function parseArguments(argv) {
  const split = argv.indexOf('--')
  if (split < 0) throw new Error('give the function command after --')
  const options = {
    command: argv.slice(split + 1), env: {}, clearEnv: false, serviceErrors: 0,
    maxTransitions: 1000, executionName: crypto.randomUUID(), timeoutSecs: 60
  }
  const words = argv.slice(0, split)
  for (let i = 0; i < words.length; i++) {
    const name = words[i]
    const take = () => {
      if (words[i + 1] === undefined) throw new Error(`${name} expects a value`)
      i += 1
      return words[i]
    }
    if (name === '--definition') options.definition = JSON.parse(fs.readFileSync(take(), 'utf8'))
    else if (name === '--input') options.input = JSON.parse(fs.readFileSync(take(), 'utf8'))
    else if (name === '--function-arn') options.functionArn = take()
    else if (name === '--execution-name') options.executionName = take()
    else if (name === '--timeout-secs') options.timeoutSecs = Number(take())
    else if (name === '--service-errors') options.serviceErrors = Number(take())
    else if (name === '--max-transitions') options.maxTransitions = Number(take())
    else if (name === '--clear-env') options.clearEnv = true
    else if (name === '--env') {
      const text = take()
      const at = text.indexOf('=')
      if (at <= 0) throw new Error(`--env expects NAME=VALUE, got ${text}`)
      options.env[text.slice(0, at)] = text.slice(at + 1)
    } else throw new Error(`unknown option ${name}`)
  }
  for (const required of ['definition', 'input', 'functionArn']) {
    if (options[required] === undefined) throw new Error(`--${required.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is required`)
  }
  return options
}

async function main(argv) {
  const options = parseArguments(argv)
  checkDefinition(options.definition, options.functionArn)
  const runtime = createRuntime({ timeoutSecs: options.timeoutSecs, functionArn: options.functionArn })
  const address = await runtime.listen()
  const child = spawnFunction(options.command, address,
    Object.assign(options.clearEnv ? {} : process.env, options.env))
  let exit = null
  child.exited.then((status) => {
    exit = status
    runtime.loseAll('the function exited')
  })
  const result = await execute(options.definition, options.input, (payload) => {
    if (exit) return Promise.resolve({ outcome: 'lost', why: 'the function exited' })
    return runtime.invoke(payload)
  }, options)
  if (!exit) exit = await stopFunction(child)
  runtime.close()
  result.runtime = {
    init_errors: runtime.initErrors,
    protocol_errors: runtime.protocolErrors,
    exit,
    stderr: child.output().stderr
  }
  process.stdout.write(JSON.stringify(result) + '\n')
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`sfn_driver.js: ${e.message}\n`)
    process.exit(2)
  })
}

module.exports = { execute, checkDefinition }
