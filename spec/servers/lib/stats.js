'use strict'
// What the server saw since the last reset: requests per target, connections
// (counted at the server, so that tests can check connection reuse and
// concurrency), authentication failures, throttles and recent requests.
// No secret is recorded: only whether a session token came, and which
// access key id signed.

const RECENT_LIMIT = 100

class Stats {
  constructor() {
    this.epoch = 0
    this.nextSocketId = 0
    this.openUsed = new Set()
    this.reset()
  }

  // Clears the counters; connections still open count again when next used.
  reset() {
    this.epoch += 1
    this.openUsed.clear()
    this.requests = 0
    this.byTarget = {}
    this.byStatus = {}
    this.tcpConnections = 0
    this.connections = 0
    this.maxOpenConnections = 0
    this.signatureFailures = 0
    this.authFailures = {}
    this.throttled = 0
    this.athenaRateThrottled = 0
    this.faultsFired = 0
    this.signedBy = {}
    this.tokensSeen = []
    this.requestsWithToken = 0
    this.recent = []
    this.stsCalls = []
    this.handlingMs = 0
    this.addedLatencyMs = 0
    this.metadataCredentialsServed = 0
    this.containerCredentialsServed = 0
  }

  // A TCP connection was accepted.
  accepted() {
    this.tcpConnections += 1
  }

  // A request that is not a control request arrived on `socket`: the
  // connection counts from its first such request since the reset.
  use(socket) {
    if (socket.sqId === undefined) {
      this.nextSocketId += 1
      socket.sqId = this.nextSocketId
      socket.once('close', () => this.openUsed.delete(socket))
    }
    if (socket.sqEpoch === this.epoch) return
    socket.sqEpoch = this.epoch
    if (socket.destroyed) return
    this.connections += 1
    this.openUsed.add(socket)
    this.maxOpenConnections = Math.max(this.maxOpenConnections, this.openUsed.size)
  }

  // Starts the record of one request; the caller fills in the outcome.
  request(target, socket) {
    this.requests += 1
    this.byTarget[target] = (this.byTarget[target] || 0) + 1
    const entry = { target, connection: socket.sqId, status: null }
    this.recent.push(entry)
    if (this.recent.length > RECENT_LIMIT) this.recent.shift()
    return entry
  }

  // Records the HTTP status a request was answered with.
  answered(status) {
    this.byStatus[status] = (this.byStatus[status] || 0) + 1
  }

  // Records who signed a request that passed the check.
  signed(entry, check) {
    entry.access_key_id = check.accessKeyId
    entry.security_token = check.tokenPresent
    entry.security_token_signed = check.tokenSigned
    this.signedBy[check.accessKeyId] = (this.signedBy[check.accessKeyId] || 0) + 1
    if (check.tokenPresent) {
      this.requestsWithToken += 1
      if (!this.tokensSeen.includes(check.accessKeyId)) this.tokensSeen.push(check.accessKeyId)
    }
  }

  // Records a request rejected by the signature check, by error code.
  authFailed(code) {
    this.signatureFailures += 1
    this.authFailures[code] = (this.authFailures[code] || 0) + 1
  }

  // The stats as the control API returns them.
  toJSON() {
    return {
      requests: this.requests,
      by_target: this.byTarget,
      by_status: this.byStatus,
      connections: this.connections,
      max_open_connections: this.maxOpenConnections,
      open_connections: this.openUsed.size,
      tcp_connections: this.tcpConnections,
      signature_failures: this.signatureFailures,
      auth_failures: this.authFailures,
      throttled: this.throttled,
      athena_rate_throttled: this.athenaRateThrottled,
      faults_fired: this.faultsFired,
      signed_by: this.signedBy,
      security_tokens_seen: this.tokensSeen,
      requests_with_security_token: this.requestsWithToken,
      handling_ms: Math.round(this.handlingMs),
      added_latency_ms: this.addedLatencyMs,
      sts_calls: this.stsCalls,
      metadata_credentials_served: this.metadataCredentialsServed,
      container_credentials_served: this.containerCredentialsServed,
      recent: this.recent,
    }
  }
}

module.exports = { Stats }
