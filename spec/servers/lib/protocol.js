'use strict'
// How AWS answers: request ids, JSON 1.1 errors and bodies, and query-protocol XML.

const crypto = require('crypto')

const AMZ_JSON = 'application/x-amz-json-1.1'

// An error that a handler raises to answer the request with an AWS error.
class ApiError extends Error {
  constructor(status, code, message, extra) {
    super(message)
    this.status = status
    this.code = code
    this.extra = extra || {}
  }
}

// A fresh request id, shaped as AWS's.
function requestId() {
  return crypto.randomUUID()
}

// The body and headers of a JSON 1.1 error, as the AWS JSON protocol sends it.
function jsonError(error) {
  const body = Object.assign({ __type: error.code, message: error.message }, error.extra)
  return {
    status: error.status,
    headers: { 'Content-Type': AMZ_JSON, 'x-amzn-ErrorType': error.code },
    body: JSON.stringify(body),
  }
}

// The body and headers of a successful JSON 1.1 answer.
function jsonOk(value) {
  return { status: 200, headers: { 'Content-Type': AMZ_JSON }, body: JSON.stringify(value) }
}

// Escapes text for an XML element.
function xmlEscape(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({
    '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;',
  })[c])
}

// A query-protocol (STS) XML error; Type is Sender for 4xx, Receiver for 5xx.
function xmlError(error, id, namespace) {
  const type = error.status >= 500 ? 'Receiver' : 'Sender'
  const body = `<ErrorResponse xmlns="${namespace}">\n` +
    `  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(error.code)}</Code>\n` +
    `    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${id}</RequestId>\n</ErrorResponse>\n`
  return { status: error.status, headers: { 'Content-Type': 'text/xml' }, body }
}

module.exports = { AMZ_JSON, ApiError, requestId, jsonError, jsonOk, xmlEscape, xmlError }
