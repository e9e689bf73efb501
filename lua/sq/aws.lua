-- Calls to AWS JSON APIs (Athena, Kinesis): signed, retried, many at once.
--
-- local client = aws.new{ region = nil, concurrency = 8, max_attempts = 3, connect_timeout = 3,
--                         timeout = 30, env = nil, credentials = nil, sleep = nil }
-- client:call("athena", "AmazonAthena.StartQueryExecution", { QueryString = "..." })
--   -> decoded response | nil, err
-- client:call(service, target, body, { raw = true })
--   -> the response body's text, not decoded ("{}" for a blank one) | nil, err (decoded as ever)
-- client:batch{ { service = "athena", target = "...", body = { ... }, raw = nil }, ... }
--   -> { { response = decoded } | { error = err }, ... }, run concurrently
-- client:endpoint("athena") -> "https://athena.eu-west-1.amazonaws.com"
--
-- err = { code = "ThrottlingException", message = "...", status = 400, request_id = "...",
--         retryable = true, attempts = 3, service = "athena", target = "..." }
-- Throttling, HTTP 500/502/503/504, connection failures and timeouts are retried with
-- exponential backoff and full jitter, at most max_attempts times in all; validation, access and
-- signature errors never are.  Bad configuration (region, endpoint URL) raises.
local cjson = require("cjson.safe")
local clock = require("host.clock")
local http = require("host.http")
local sigv4 = require("host.sigv4")
local credentials = require("sq.credentials")
local endpoints = require("sq.endpoints")

local aws = {}

aws.THROTTLING_CODES = {
  ThrottlingException = true,
  TooManyRequestsException = true,
  ProvisionedThroughputExceededException = true,
  RequestLimitExceeded = true,
  Throttling = true,
  SlowDown = true,
  ThrottledException = true,
  RequestThrottledException = true,
}
aws.RETRYABLE_STATUS = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

local RETRYABLE_KINDS = { connect = true, refused = true, reset = true, timeout = true }
local KIND_CODES = { connect = "ConnectionError", refused = "ConnectionRefused",
  reset = "ConnectionReset", timeout = "Timeout", tls = "TLSError", other = "HTTPError" }
local EXPIRED_CODES = { ExpiredToken = true, ExpiredTokenException = true }
local CONTENT_TYPE = "application/x-amz-json-1.1"
local MESSAGE_LIMIT = 1000
local MIN_ATTEMPT_SECONDS = 0.2 -- an attempt with less time than this is not made

-- Errors print as one line.
local Error = {
  __tostring = function(e)
    local details = {}
    if e.status then
      details[#details + 1] = "HTTP " .. e.status
    end
    if e.request_id then
      details[#details + 1] = "request id " .. e.request_id
    end
    if e.attempts and e.attempts > 1 then
      details[#details + 1] = e.attempts .. " attempts"
    end
    local suffix = #details > 0 and (" (" .. table.concat(details, ", ") .. ")") or ""
    local where = e.target and (e.target .. ": ") or ""
    return where .. e.code .. ": " .. (e.message or "") .. suffix
  end,
}

local function new_error(fields)
  return setmetatable(fields, Error)
end

aws.new_error = new_error

-- Whether an error is worth another attempt.
function aws.retryable(service, code, status)
  if aws.THROTTLING_CODES[code] or (status and aws.RETRYABLE_STATUS[status]) then
    return true
  end
  return code == "LimitExceededException" and service == "kinesis" -- Kinesis read limits
end

-- The error code of an AWS JSON error: "__type" without its "prefix#", else the
-- x-amzn-ErrorType header without its ":..." part.
local function error_code(decoded, headers)
  local code = type(decoded) == "table" and (decoded.__type or decoded.code or decoded.Code)
  if type(code) ~= "string" or code == "" then
    code = headers["x-amzn-errortype"]
  end
  if type(code) ~= "string" or code == "" then
    return nil
  end
  return (code:gsub("^.*#", ""):gsub(":.*$", ""))
end

-- Decode one HTTP result into (response) or (nil, err). With raw, a successful response is its
-- body's text, for a caller that reads it its own way.
local function interpret(service, target, result, raw)
  if result.error then
    return nil, new_error{ code = KIND_CODES[result.kind] or "HTTPError", message = result.error,
      retryable = RETRYABLE_KINDS[result.kind] == true, service = service, target = target }
  end
  local body = result.body
  if raw and result.status >= 200 and result.status < 300 then
    return body:match("^%s*$") and "{}" or body
  end
  local decoded, decode_error
  if body:match("^%s*$") then
    decoded = {}
  else
    decoded, decode_error = cjson.decode(body)
  end
  local request_id = result.headers["x-amzn-requestid"] or result.headers["x-amz-request-id"]
  if result.status >= 200 and result.status < 300 then
    if decoded == nil then
      return nil, new_error{ code = "InvalidResponse", message = "the response is not JSON: "
        .. tostring(decode_error), status = result.status, request_id = request_id,
        retryable = false, service = service, target = target }
    end
    return decoded
  end
  local code = error_code(decoded, result.headers) or ("HTTP" .. result.status)
  local message = type(decoded) == "table" and (decoded.message or decoded.Message) or nil
  if type(message) ~= "string" then
    message = decoded == nil and body:sub(1, 200) or ""
  end
  return nil, new_error{ code = code, message = message:sub(1, MESSAGE_LIMIT),
    status = result.status, request_id = request_id,
    retryable = aws.retryable(service, code, result.status), service = service, target = target }
end

local Client = {}
Client.__index = Client

local function option_number(options, name, default, low, high)
  local value = options[name]
  if value == nil then
    return default
  end
  if type(value) ~= "number" or value < low or value > high then
    error(("aws.new: %s must be a number from %s to %s"):format(name, low, high), 3)
  end
  return value
end

-- new(options) -> client; raises when no valid region can be found.
function aws.new(options)
  options = options or {}
  local env = endpoints.getter(options.env)
  local profile_region, err = credentials.profile_region(options.env)
  if err then
    error(err, 2)
  end
  local region
  region, err = endpoints.find_region(options.env, profile_region, options.region)
  if region == nil then
    error(err, 2)
  end
  local self = setmetatable({
    region = region,
    env = options.env,
    max_attempts = math.floor(option_number(options, "max_attempts", 3, 1, 20)),
    backoff_base = option_number(options, "backoff_base", 0.05, 0, 60),
    backoff_cap = option_number(options, "backoff_cap", 2.0, 0, 300),
    sleep = options.sleep or clock.sleep,
    random = options.random or math.random,
    log = options.log,
    endpoints = {},
  }, Client)
  self.timeout = option_number(options, "timeout", 30.0, 0.001, 86400)
  self.http = http.new{
    concurrency = math.floor(option_number(options, "concurrency", 8, 1, 256)),
    connect_timeout = option_number(options, "connect_timeout", 3.0, 0.001, 3600),
    timeout = self.timeout,
    ca_file = env("SSL_CERT_FILE"),
  }
  self.credentials = options.credentials or credentials.chain{ env = options.env,
    region = region, http = self.http, now = options.now }
  return self
end

-- endpoint(service) -> the service's base URL; raises on a bad override.
function Client:endpoint(service)
  local known = self.endpoints[service]
  if known == nil then
    local url, err = endpoints.resolve(service, self.region, self.env)
    if url == nil then
      error(err, 2)
    end
    local parsed = endpoints.parse_url(url)
    known = { url = url, host = parsed.host .. (parsed.port and (":" .. parsed.port) or ""),
      path = parsed.path == "" and "/" or parsed.path, scheme = parsed.scheme }
    self.endpoints[service] = known
  end
  return known.url
end

-- The delay before attempt 'attempt' + 1: full jitter over an exponential ceiling.
function Client:backoff(attempt)
  local ceiling = math.min(self.backoff_cap, self.backoff_base * 2 ^ (attempt - 1))
  return self.random() * ceiling
end

-- The signed HTTP request of one call.
function Client:signed_request(keys, call)
  self:endpoint(call.service)
  local place = self.endpoints[call.service]
  local headers = { { "Host", place.host }, { "Content-Type", CONTENT_TYPE },
    { "X-Amz-Target", call.target } }
  local signed = sigv4.sign{ method = "POST", path = place.path, query = "", headers = headers,
    body = call.payload, access_key = keys.access_key, secret_key = keys.secret_key,
    session_token = keys.session_token, region = self.region, service = call.service,
    time = clock.now() }
  for _, header in ipairs(signed.headers) do
    headers[#headers + 1] = header
  end
  return { method = "POST", url = place.scheme .. "://" .. place.host .. place.path,
    headers = headers, body = call.payload }
end

-- Check one call of a batch and encode its body; raises on a programming error.
local function prepare(call, index)
  if type(call) ~= "table" then
    error(("aws: request %d must be a table"):format(index), 4)
  end
  if type(call.service) ~= "string" or type(call.target) ~= "string" or call.target == "" then
    error(("aws: request %d needs a service and a target"):format(index), 4)
  end
  local payload = call.body
  if payload == nil then
    payload = "{}"
  elseif type(payload) == "table" then
    local encoded, err = cjson.encode(payload)
    if encoded == nil then
      error(("aws: request %d (%s): the body cannot be encoded as JSON: %s"):format(index,
        call.target, err), 4)
    end
    payload = encoded
  elseif type(payload) ~= "string" then
    error(("aws: request %d (%s): the body must be a table or a string"):format(index,
      call.target), 4)
  end
  return { service = call.service, target = call.target, payload = payload, raw = call.raw }
end

-- batch(calls) -> results, one { response = ... } or { error = ... } per call, in order.
function Client:batch(calls)
  if type(calls) ~= "table" then
    error("aws: batch expects a list of requests", 2)
  end
  local prepared, pending, results = {}, {}, {}
  for i, call in ipairs(calls) do
    prepared[i] = prepare(call, i)
    self:endpoint(call.service) -- a bad endpoint raises before anything is sent
    pending[#pending + 1] = i
  end
  local attempt = 0
  while #pending > 0 do
    attempt = attempt + 1
    local retry, reasons = {}, {}
    local left = self.deadline and self.deadline - clock.monotonic()
    local keys, message, retryable
    if left and left < MIN_ATTEMPT_SECONDS then
      for _, i in ipairs(pending) do
        results[i] = { error = new_error{ code = "DeadlineExceeded", retryable = true,
          message = "no time left before the deadline of this invocation",
          attempts = attempt - 1, service = prepared[i].service, target = prepared[i].target } }
      end
      break
    end
    keys, message, retryable = self.credentials:get()
    if keys == nil then
      for _, i in ipairs(pending) do
        local err = new_error{ code = "CredentialsError", message = message,
          retryable = retryable == true, attempts = attempt, service = prepared[i].service,
          target = prepared[i].target }
        if err.retryable and attempt < self.max_attempts then
          retry[#retry + 1] = i
          reasons[err.code] = true
        else
          results[i] = { error = err }
        end
      end
    else
      local requests = {}
      for k, i in ipairs(pending) do
        requests[k] = self:signed_request(keys, prepared[i])
        requests[k].timeout = left and math.min(left, self.timeout) -- never past the deadline
      end
      local answers = self.http:perform(requests)
      for k, i in ipairs(pending) do
        local call = prepared[i]
        local response, err = interpret(call.service, call.target, answers[k], call.raw)
        if err == nil then
          results[i] = { response = response }
        else
          err.attempts = attempt
          if EXPIRED_CODES[err.code] and self.credentials.invalidate then
            self.credentials:invalidate() -- fetch fresh ones for the next call
          end
          if err.retryable and attempt < self.max_attempts then
            retry[#retry + 1] = i
            reasons[err.code] = true
          else
            results[i] = { error = err }
          end
        end
      end
    end
    pending = retry
    if #pending > 0 then
      local delay = self:backoff(attempt)
      if self.deadline and clock.monotonic() + delay + MIN_ATTEMPT_SECONDS > self.deadline then
        delay = 0 -- the next round answers DeadlineExceeded at once
      end
      if self.log then
        local codes = {}
        for code in pairs(reasons) do
          codes[#codes + 1] = code
        end
        table.sort(codes)
        self.log:debug("retrying AWS requests", { count = #pending, attempt = attempt + 1,
          max_attempts = self.max_attempts, delay = ("%.3f"):format(delay),
          errors = table.concat(codes, ",") })
      end
      self.sleep(delay)
    end
  end
  return results
end

-- set_deadline(monotonic seconds | nil): from now on no request runs
-- past it, and none starts when less than a fraction of a second is left;
-- what could not run fails with the retryable code DeadlineExceeded.
function Client:set_deadline(deadline)
  self.deadline = deadline
end

-- call(service, target, body [, options]) -> decoded response | nil, err; with options.raw
-- true, the response is the body's text.
function Client:call(service, target, body, options)
  local result = self:batch{ { service = service, target = target, body = body,
    raw = options and options.raw } }[1]
  if result.error then
    return nil, result.error
  end
  return result.response
end

-- close(): closes the client's connections.
function Client:close()
  self.http:close()
end

Client.__close = Client.close

return aws
