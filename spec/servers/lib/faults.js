'use strict'
// Fault rules set through POST /__control/faults: the next matching
// requests are throttled, answered with an error status, reset, delayed,
// left hanging, or (Kinesis PutRecords) partly failed.

const ACTIONS = ['throttle', 'status', 'reset', 'delay', 'hang', 'partial']
const PUT_RECORDS = 'Kinesis_20131202.PutRecords'

// Checks that `value`, when present, is an integer of at least `min`.
function checkInteger(rule, name, min) {
  const value = rule[name]
  if (value === undefined) return
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`fault rule field ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  }
}

// Validates one rule from the control API and returns the rule as kept.
function makeRule(spec) {
  if (typeof spec !== 'object' || spec === null) throw new Error('a fault rule must be an object')
  if (!ACTIONS.includes(spec.action)) {
    throw new Error(`fault rule action must be one of ${ACTIONS.join(', ')}, ` +
      `got ${JSON.stringify(spec.action)}`)
  }
  if (spec.target !== undefined && typeof spec.target !== 'string') {
    throw new Error('fault rule target must be a string')
  }
  checkInteger(spec, 'times', 1)
  checkInteger(spec, 'after', 0)
  checkInteger(spec, 'status', 100)
  checkInteger(spec, 'delay_ms', 0)
  checkInteger(spec, 'fail_every', 1)
  if (spec.action === 'status' && spec.status === undefined) {
    throw new Error('a fault rule with action "status" needs a status')
  }
  if (spec.action === 'delay' && spec.delay_ms === undefined) {
    throw new Error('a fault rule with action "delay" needs delay_ms')
  }
  if (spec.action === 'partial') {
    if (spec.target !== undefined && spec.target !== PUT_RECORDS) {
      throw new Error(`action "partial" applies only to ${PUT_RECORDS}`)
    }
    if (spec.fail_every === undefined) throw new Error('action "partial" needs fail_every')
  }
  for (const name of ['code', 'message']) {
    if (spec[name] !== undefined && typeof spec[name] !== 'string') {
      throw new Error(`fault rule field ${name} must be a string`)
    }
  }
  return Object.assign({}, spec, {
    target: spec.action === 'partial' ? PUT_RECORDS : spec.target,
    remaining: spec.times === undefined ? Infinity : spec.times,
    skip: spec.after || 0,
    fired: 0,
  })
}

class Faults {
  constructor() {
    this.rules = []
  }

  // Adds rules (all validated first, so a bad list adds nothing).
  add(specs, replace) {
    if (!Array.isArray(specs)) throw new Error('"rules" must be a list')
    const rules = specs.map(makeRule)
    if (replace) this.rules = []
    this.rules.push(...rules)
  }

  // Forgets every rule.
  clear() {
    this.rules = []
  }

  // The rule that fires for a request to `target`, counting it, or null.
  take(target) {
    for (const rule of this.rules) {
      if (rule.remaining <= 0) continue
      if (rule.target !== undefined && rule.target !== target) continue
      if (rule.skip > 0) {
        rule.skip -= 1
        continue
      }
      rule.remaining -= 1
      rule.fired += 1
      return rule
    }
    return null
  }

  // The rules as the control API shows them.
  toJSON() {
    return this.rules.map((r) => Object.assign({}, r, {
      remaining: r.remaining === Infinity ? null : r.remaining,
    }))
  }
}

module.exports = { Faults, PUT_RECORDS }
