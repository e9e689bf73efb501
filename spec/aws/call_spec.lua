-- sq.aws against the local test server: signing, session tokens, retries, timeouts, batches,
-- connection reuse and errors.
local aws = require("sq.aws")
local servers = require("support.servers")
local support = require("aws.support")

local TARGET, BODY = support.TARGET, support.BODY
local UNPROCESSED = { UnprocessedQueryExecutionIds = { { QueryExecutionId = "no-such-query",
  ErrorCode = "INVALID_INPUT", ErrorMessage = "Query execution no-such-query was not found" } },
  QueryExecutions = {} }

-- A client of 'server' that records its backoff delays; 'random' is fixed at one half so that
-- the delays are exact.
local function client_of(server, options, extra_env)
  local sleep, delays = support.recording_sleep()
  options = options or {}
  options.env = options.env or support.env_with_keys(server, extra_env)
  options.sleep = sleep
  options.random = function() return 0.5 end
  return aws.new(options), delays
end

describe("sq.aws", function()
  local server

  setup(function()
    server = servers.start({ "--tls" })
  end)

  teardown(function()
    server:stop()
  end)

  before_each(function()
    server:reset()
  end)

  describe("signing", function()
    it("is accepted by the server with the right secret", function()
      local client <close> = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
      local stats = server:stats()
      assert.are.equal(0, stats.signature_failures)
      assert.are.same({ AKIDEXAMPLE = 1 }, stats.signed_by)
    end)

    it("is rejected with the wrong secret, once, and the error holds no secret", function()
      local wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGSECRET"
      local client <close> = client_of(server, nil, { AWS_SECRET_ACCESS_KEY = wrong })
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("InvalidSignatureException", err.code)
      assert.are.equal(403, err.status)
      assert.are.equal(false, err.retryable)
      assert.are.equal(1, err.attempts)
      local stats = server:stats()
      assert.are.equal(1, stats.requests)
      assert.are.equal(1, stats.signature_failures)
      for _, text in ipairs({ tostring(err), err.message }) do
        assert.is_nil(text:find(wrong, 1, true))
        assert.is_nil(text:find(support.SECRET, 1, true))
      end
    end)

    it("sends a session token as X-Amz-Security-Token", function()
      local tokened = servers.start({ "--tls", "--credentials", "ASIAEXAMPLE:tokensecret:TOKEN1" })
      local env = support.env(tokened, { AWS_ACCESS_KEY_ID = "ASIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY = "tokensecret", AWS_SESSION_TOKEN = "TOKEN1" })
      local client <close> = client_of(tokened, { env = env })
      local response, err = client:call("athena", TARGET, BODY)
      local stats = tokened:stats()
      tokened:stop()
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
      assert.are.equal(1, stats.requests_with_security_token)
      assert.are.same({ "ASIAEXAMPLE" }, stats.security_tokens_seen)
      assert.are.equal(true, stats.recent[1].security_token)
    end)

    it("is refused when the session token is missing", function()
      local tokened = servers.start({ "--tls", "--credentials", "ASIAEXAMPLE:tokensecret:TOKEN1" })
      local env = support.env(tokened, { AWS_ACCESS_KEY_ID = "ASIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY = "tokensecret" })
      local client <close> = client_of(tokened, { env = env })
      local response, err = client:call("athena", TARGET, BODY)
      tokened:stop()
      assert.is_nil(response)
      assert.are.equal("UnrecognizedClientException", err.code)
      assert.are.equal(1, err.attempts)
    end)
  end)

  describe("retries", function()
    it("retries HTTP 503 with backoff and succeeds on the third attempt", function()
      server:faults({ { target = TARGET, action = "status", status = 503, times = 2 } })
      local client <close>, delays = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
      assert.are.equal(3, server:stats().requests)
      -- full jitter: random() * min(cap, 0.05 * 2^(attempt - 1)), random() fixed at 0.5
      assert.are.same({ 0.025, 0.05 }, delays)
    end)

    it("tells its logger about each retry at debug level", function()
      server:faults({ { target = TARGET, action = "throttle", times = 1 } })
      local lines = {}
      local logger = { debug = function(_, message, fields)
        lines[#lines + 1] = { message, fields }
      end }
      local client <close> = client_of(server, { log = logger })
      assert.is_nil(select(2, client:call("athena", TARGET, BODY)))
      assert.are.same({ { "retrying AWS requests", { count = 1, attempt = 2, max_attempts = 3,
        delay = "0.025", errors = "ThrottlingException" } } }, lines)
    end)

    it("stops 503 retries at max_attempts and reports the last error", function()
      server:faults({ { target = TARGET, action = "status", status = 503 } })
      local client <close>, delays = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("ServiceUnavailable", err.code)
      assert.are.equal(503, err.status)
      assert.are.equal(true, err.retryable)
      assert.are.equal(3, err.attempts)
      assert.are.equal(TARGET, err.target)
      assert.are.equal("athena", err.service)
      assert.is_string(err.request_id)
      assert.are.equal(3, server:stats().requests)
      assert.are.same({ 0.025, 0.05 }, delays)
    end)

    it("retries throttling up to the limit, as many times as asked", function()
      server:faults({ { target = TARGET, action = "throttle" } })
      local client <close>, delays = client_of(server, { max_attempts = 5 })
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("ThrottlingException", err.code)
      assert.are.equal(400, err.status)
      assert.are.equal(5, err.attempts)
      local stats = server:stats()
      assert.are.equal(5, stats.requests)
      assert.are.equal(5, stats.throttled)
      assert.are.same({ 0.025, 0.05, 0.1, 0.2 }, delays)
    end)

    it("succeeds after throttling that stops", function()
      server:faults({ { target = TARGET, action = "throttle", code = "TooManyRequestsException",
        times = 1 } })
      local client <close> = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
      assert.are.equal(2, server:stats().requests)
    end)

    it("caps the backoff", function()
      server:faults({ { target = TARGET, action = "status", status = 500 } })
      local client <close>, delays = client_of(server, { max_attempts = 4, backoff_base = 1,
        backoff_cap = 1.5 })
      local _, err = client:call("athena", TARGET, BODY)
      assert.are.equal("InternalServerException", err.code)
      assert.are.same({ 0.5, 0.75, 0.75 }, delays)
    end)

    it("never retries a 400 ValidationException", function()
      server:faults({ { target = TARGET, action = "status", status = 400,
        message = "1 validation error detected" } })
      local client <close>, delays = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("ValidationException", err.code)
      assert.are.equal("1 validation error detected", err.message)
      assert.are.equal(400, err.status)
      assert.are.equal(false, err.retryable)
      assert.are.equal(1, err.attempts)
      assert.are.equal(1, server:stats().requests)
      assert.are.same({}, delays)
    end)

    it("never retries an access error", function()
      server:faults({ { target = TARGET, action = "status", status = 403,
        code = "AccessDeniedException", message = "not allowed" } })
      local client <close> = client_of(server)
      local _, err = client:call("athena", TARGET, BODY)
      assert.are.equal("AccessDeniedException", err.code)
      assert.are.equal(1, server:stats().requests)
    end)

    it("retries a connection reset", function()
      server:faults({ { target = TARGET, action = "reset", times = 1 } })
      local client <close> = client_of(server)
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
      assert.are.equal(2, server:stats().requests)
    end)
  end)

  describe("timeouts", function()
    it("turn a hung server into a Timeout error, retried up to the limit", function()
      server:faults({ { target = TARGET, action = "hang" } })
      local client <close> = client_of(server, { timeout = 0.3, max_attempts = 2 })
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("Timeout", err.code)
      assert.are.equal(true, err.retryable)
      assert.are.equal(2, err.attempts)
      assert.is_nil(err.status)
      assert.are.equal(2, server:stats().requests)
    end)

    it("let a later attempt succeed once the server answers again", function()
      server:faults({ { target = TARGET, action = "hang", times = 1 } })
      local client <close> = client_of(server, { timeout = 0.3 })
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(err)
      assert.are.same(UNPROCESSED, response)
    end)

    it("report a refused connection as ConnectionRefused", function()
      local client <close> = client_of(server, { max_attempts = 2 },
        { AWS_ENDPOINT_URL = "http://127.0.0.1:1" })
      local _, err = client:call("athena", TARGET, BODY)
      assert.are.equal("ConnectionRefused", err.code)
      assert.are.equal(2, err.attempts)
    end)
  end)

  describe("connections", function()
    it("reuses one connection for 50 sequential calls", function()
      local client <close> = client_of(server)
      for i = 1, 50 do
        local _, err = client:call("athena", TARGET, BODY)
        assert.is_nil(err, i)
      end
      local stats = server:stats()
      assert.are.equal(50, stats.requests)
      assert.are.equal(1, stats.connections)
    end)

    it("opens at most 8 connections for a batch of 50 with a concurrency of 8", function()
      local client <close> = client_of(server, { concurrency = 8 })
      local calls = {}
      for i = 1, 50 do
        calls[i] = { service = "athena", target = TARGET, body = BODY }
      end
      local results = client:batch(calls)
      for i = 1, 50 do
        assert.are.same({ response = UNPROCESSED }, results[i], i)
      end
      local stats = server:stats()
      assert.are.equal(50, stats.requests)
      assert.are.equal(8, stats.connections)
      assert.are.equal(8, stats.max_open_connections)
    end)
  end)

  describe("batch", function()
    it("retries only the requests that need it and keeps the order", function()
      server:faults({ { target = "AmazonAthena.GetQueryExecution", action = "status",
        status = 503, times = 1 } })
      local client <close> = client_of(server)
      local results = client:batch{
        { service = "athena", target = TARGET, body = BODY },
        { service = "athena", target = "AmazonAthena.GetQueryExecution",
          body = '{"QueryExecutionId":"missing"}' },
        { service = "athena", target = "AmazonAthena.StopQueryExecution", body = {} },
      }
      assert.are.same({ response = UNPROCESSED }, results[1])
      assert.are.equal("InvalidRequestException", results[2].error.code)
      assert.are.equal("Query execution missing was not found", results[2].error.message)
      assert.are.equal(2, results[2].error.attempts)
      assert.are.equal("InvalidRequestException", results[3].error.code)
      assert.are.equal(1, results[3].error.attempts)
      assert.are.same({ [TARGET] = 1, ["AmazonAthena.GetQueryExecution"] = 2,
        ["AmazonAthena.StopQueryExecution"] = 1 }, server:stats().by_target)
    end)

    it("gives an empty list for an empty batch", function()
      local client <close> = client_of(server)
      assert.are.same({}, client:batch{})
    end)

    it("raises for a request without a target", function()
      local client <close> = client_of(server)
      assert.has_error(function() client:batch{ { service = "athena" } } end,
        "aws: request 1 needs a service and a target")
    end)
  end)

  describe("configuration", function()
    it("reaches the server over TLS only through the CA named by SSL_CERT_FILE", function()
      local client <close> = client_of(server, nil, { SSL_CERT_FILE = false })
      local _, err = client:call("athena", TARGET, BODY)
      assert.are.equal("TLSError", err.code)
      assert.are.equal(false, err.retryable)
      assert.are.equal(0, server:stats().requests)
    end)

    it("raises a clear error for a malformed endpoint URL", function()
      local client <close> = client_of(server, nil, { AWS_ENDPOINT_URL = "https//127.0.0.1" })
      assert.has_error(function() client:call("athena", TARGET, BODY) end,
        'AWS_ENDPOINT_URL is not a valid endpoint URL ("https//127.0.0.1"): it needs a scheme:'
          .. " http:// or https://")
    end)

    it("raises a clear error for a malformed region", function()
      assert.has_error(function() client_of(server, nil, { AWS_REGION = "us-east" }) end,
        'invalid AWS region "us-east": expected a name such as us-east-1 or eu-west-2'
          .. " (from AWS_REGION)")
    end)

    it("resolves its region and endpoints", function()
      local client <close> = aws.new{ env = support.env(nil, { AWS_REGION = "cn-north-1" }) }
      assert.are.equal("cn-north-1", client.region)
      assert.are.equal("https://athena.cn-north-1.amazonaws.com.cn", client:endpoint("athena"))
      local other <close> = aws.new{ env = support.env(nil, { AWS_REGION = false }),
        region = "eu-west-1" }
      assert.are.equal("eu-west-1", other.region)
      assert.are.equal("https://kinesis.eu-west-1.amazonaws.com", other:endpoint("kinesis"))
    end)

    it("reports missing credentials with every place it looked, and sends nothing", function()
      local client <close> = client_of(server, { env = support.env(server) })
      local response, err = client:call("athena", TARGET, BODY)
      assert.is_nil(response)
      assert.are.equal("CredentialsError", err.code)
      assert.are.equal(false, err.retryable)
      assert.are.equal("no AWS credentials found; looked in:"
        .. " environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): not set;"
        .. " web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN): not set;"
        .. ' shared files: profile "default" not found in'
        .. " /nonexistent/streamquery-home/.aws/credentials or"
        .. " /nonexistent/streamquery-home/.aws/config;"
        .. " container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, _FULL_URI): not set;"
        .. " EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED", err.message)
      assert.are.equal(0, server:stats().requests)
    end)
  end)
end)
