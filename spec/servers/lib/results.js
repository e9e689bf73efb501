'use strict'
// Result sets of scripted Athena queries: literal rows, a JSON file, rows
// generated on demand (never held whole), or the real CloudTrail records.
// Every source answers columns, rowCount and rows(first, count), where row
// indexes count data rows from 0 and values are strings or null.

const fs = require('fs')
const path = require('path')

const fileCache = new Map()
const cloudtrailCache = new Map()

// Normalizes a column given as "name" or { name, type } (Name/Type also accepted).
function column(spec) {
  if (typeof spec === 'string') return { name: spec, type: 'varchar' }
  if (spec && typeof (spec.name || spec.Name) === 'string') {
    return { name: spec.name || spec.Name, type: spec.type || spec.Type || 'varchar' }
  }
  throw new Error(`a result column must be a name or {name, type}, got ${JSON.stringify(spec)}`)
}

// Turns a cell into what Athena returns: a string, or null for NULL.
function cell(value) {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

// A source over literal {columns, rows}; `where` names the origin in errors.
function literal(spec, where) {
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    throw new Error(`${where}: "columns" must be a non-empty list`)
  }
  if (!Array.isArray(spec.rows)) throw new Error(`${where}: "rows" must be a list`)
  const columns = spec.columns.map(column)
  spec.rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw new Error(`${where}: row ${i + 1} must be a list of ${columns.length} values`)
    }
  })
  const rows = spec.rows
  return {
    columns,
    rowCount: rows.length,
    rows: (first, count) => rows.slice(first, first + count).map((r) => r.map(cell)),
  }
}

// A source read from a JSON file of the literal shape (cached per path).
function fromFile(file) {
  const full = path.resolve(file)
  if (!fileCache.has(full)) {
    let spec
    try {
      spec = JSON.parse(fs.readFileSync(full, 'utf8'))
    } catch (err) {
      throw new Error(`result file ${full}: ${err.message}`)
    }
    fileCache.set(full, literal(spec, `result file ${full}`))
  }
  return fileCache.get(full)
}

// The value of generated row `i` (1-based) and column `j` (1-based): the
// seed "r<i>c<j>" repeated and cut to `width` characters.
function generatedValue(i, j, width) {
  const seed = `r${i}c${j}`
  return seed.repeat(Math.ceil(width / seed.length)).slice(0, width)
}

// A source of generated rows, computed page by page.
function generated(spec) {
  const rowCount = spec.rows
  const columnCount = spec.columns === undefined ? 10 : spec.columns
  const width = spec.width === undefined ? 12 : spec.width
  for (const [name, value, min] of [['rows', rowCount, 0], ['columns', columnCount, 1],
    ['width', width, 1]]) {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`generate.${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
    }
  }
  const columns = []
  for (let j = 1; j <= columnCount; j++) columns.push({ name: `c${j}`, type: 'varchar' })
  return {
    columns,
    rowCount,
    rows: (first, count) => {
      const out = []
      const last = Math.min(rowCount, first + count)
      for (let i = first + 1; i <= last; i++) {
        const row = new Array(columnCount)
        for (let j = 1; j <= columnCount; j++) row[j - 1] = generatedValue(i, j, width)
        out.push(row)
      }
      return out
    },
  }
}

// Follows a dotted path into a record, matching keys without regard to
// case (Athena lowercases CloudTrail's camelCase names); undefined if absent.
function lookup(record, dotted) {
  let value = record
  for (const part of dotted.split('.')) {
    if (value === null || typeof value !== 'object') return undefined
    const wanted = part.toLowerCase()
    const key = Object.keys(value).find((k) => k.toLowerCase() === wanted)
    if (key === undefined) return undefined
    value = value[key]
  }
  return value
}

// Reads a CloudTrail JSON-lines file (cached per path).
function cloudtrailRecords(file) {
  const full = path.resolve(file)
  if (!cloudtrailCache.has(full)) {
    let text
    try {
      text = fs.readFileSync(full, 'utf8')
    } catch (err) {
      throw new Error(`cloudtrail file ${full}: ${err.message}`)
    }
    const records = []
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return
      try {
        records.push(JSON.parse(line))
      } catch (err) {
        throw new Error(`cloudtrail file ${full} line ${i + 1}: ${err.message}`)
      }
    })
    cloudtrailCache.set(full, records)
  }
  return cloudtrailCache.get(full)
}

// A source of CloudTrail records: columns are dotted paths (or {path, name}),
// `where` an optional {path: value} equality filter, `limit` an optional cap.
function cloudtrail(spec) {
  if (typeof spec.path !== 'string') throw new Error('cloudtrail.path must be a file path')
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    throw new Error('cloudtrail.columns must be a non-empty list of dotted paths')
  }
  const paths = spec.columns.map((c) => (typeof c === 'string' ? c : c && c.path))
  if (paths.some((p) => typeof p !== 'string')) {
    throw new Error('each cloudtrail column must be a dotted path or {path, name}')
  }
  const columns = spec.columns.map((c, i) => ({
    name: typeof c === 'string' ? c : (c.name || paths[i]),
    type: 'varchar',
  }))
  let records = cloudtrailRecords(spec.path)
  if (spec.where !== undefined) {
    const filters = Object.entries(spec.where)
    records = records.filter((r) => filters.every(([p, v]) => cell(lookup(r, p)) === v))
  }
  if (spec.limit !== undefined) records = records.slice(0, spec.limit)
  return {
    columns,
    rowCount: records.length,
    rows: (first, count) => records.slice(first, first + count)
      .map((r) => paths.map((p) => cell(lookup(r, p)))),
  }
}

const EMPTY = literal({ columns: ['result'], rows: [] }, 'default result')

// The source a script's `result` field describes (the default: one column
// "result", no rows).  Throws with a message naming what is wrong.
function source(spec) {
  if (spec === undefined || spec === null) return EMPTY
  if (typeof spec !== 'object') throw new Error('result must be an object')
  if (spec.file !== undefined) return fromFile(spec.file)
  if (spec.generate !== undefined) return generated(spec.generate)
  if (spec.cloudtrail !== undefined) return cloudtrail(spec.cloudtrail)
  return literal(spec, 'result')
}

module.exports = { source, generatedValue, lookup }
