-- bin/host lambda, the bootstrap, against the Runtime API test server:
-- start-up failures go to init/error, bad invocations get error responses
-- and the loop goes on serving.
local helper = require("lambda.helper")
local queries = require("sq.queries")

local HOST = helper.quote(helper.root .. "/bin/host")

-- Runs the bootstrap with these arguments on these events.
local function bootstrap(events, arguments, env)
  return helper.play({ events = events, env = env,
    command = HOST .. " lambda " .. (arguments or "") })
end

-- The one invocation the server could not hand over: the bootstrap had
-- stopped after its start-up failure.
local LOST = { { requestId = helper.json_null, outcome = "lost", why = "the function exited" } }

describe("bin/host lambda", function()
  local dir

  before_each(function()
    dir = helper.tmpdir()
  end)

  after_each(function()
    helper.cleanup(dir)
  end)

  it("reports a broken query file to init/error and exits with status 2", function()
    os.execute("mkdir " .. helper.quote(dir .. "/queries"))
    helper.write(dir .. "/queries/broken.lua", 'query {\n  name = "broken",\n')
    local report = bootstrap({ {} }, "--queries " .. helper.quote(dir .. "/queries"))
    local message = dir .. "/queries/broken.lua:3: unexpected symbol near <eof>"
    assert.are.same({ { errorTypeHeader = "QueryFileError",
      error = { errorType = "QueryFileError", errorMessage = message } } }, report.init_errors)
    assert.are.same({ code = 2, signal = helper.json_null }, report.exit)
    assert.are.same(LOST, report.invocations)
    assert.are.same({}, report.protocol_errors)
    local lines = helper.json_lines(report.stderr)
    assert.are.same({ level = "error", message = "start-up failed: " .. message,
      error_type = "QueryFileError" }, lines[#lines])
  end)

  it("reports an invalid configuration to init/error, naming the file and the setting", function()
    helper.write(dir .. "/conf.json", '{"enabled": true, "config": {"sfn_timeout_secs": "x"}}')
    local report = bootstrap({ {} }, "--config " .. helper.quote(dir .. "/conf.json"))
    assert.are.same({ { errorTypeHeader = "ConfigurationError", error = {
      errorType = "ConfigurationError", errorMessage = dir .. "/conf.json: "
      .. '$.config.sfn_timeout_secs: must be a positive integer, got "x"' } } },
      report.init_errors)
    assert.are.same({ code = 2, signal = helper.json_null }, report.exit)
  end)

  it("reports a CA bundle it cannot read to init/error", function()
    local report = bootstrap({ {} }, "", { SSL_CERT_FILE = dir .. "/missing.pem" })
    assert.are.same({ { errorTypeHeader = "CABundleError", error = { errorType = "CABundleError",
      errorMessage = 'SSL_CERT_FILE names the CA bundle "' .. dir .. '/missing.pem", which '
      .. "cannot be read: No such file or directory" } } }, report.init_errors)
    assert.are.same({ code = 2, signal = helper.json_null }, report.exit)
  end)

  it("answers bad events with errors and goes on serving the next invocation", function()
    local report = bootstrap({
      "not json",
      { 1, 2 },
      { execution_id = "arn:aws:states:us-east-1:123456789012:execution:sq:e1",
        event = { streamquery_configuration = { clock = "yesterday", tags = { "hourly" } } } },
      { execution_id = "arn:aws:states:us-east-1:123456789012:execution:sq:e2",
        event = { name = "streamalert_scheduled_queries_cloudwatch_trigger",
          streamquery_configuration = { clock = "2020-02-13T22:06:20Z",
            tags = { "no_such_tag" } } } },
    })
    assert.are.same({}, report.init_errors)
    assert.are.same({}, report.protocol_errors)
    assert.are.equal(4, #report.invocations)
    local outcomes = report.invocations
    assert.are.same({ errorType = "InvalidEvent", errorMessage = "the event is not JSON: "
      .. "Expected value but found invalid token at character 1" }, outcomes[1].error)
    for i = 1, 3 do
      assert.are.equal("error", outcomes[i].outcome)
      assert.are.equal("InvalidEvent", outcomes[i].errorTypeHeader)
      assert.are.equal("InvalidEvent", outcomes[i].error.errorType)
    end
    assert.truthy(outcomes[3].error.errorMessage:find("yesterday", 1, true),
      outcomes[3].error.errorMessage)
    assert.are.equal("response", outcomes[4].outcome)
    assert.are.equal(1, outcomes[4].response.done)
    assert.are.equal(1, outcomes[4].response.continue)
    assert.are.same({ "no_such_tag" },
      outcomes[4].response.step_function_state.streamquery_configuration.tags)
    -- still serving when the server stopped it
    assert.are.same({ code = helper.json_null, signal = "SIGTERM" }, report.exit)
  end)

  it("logs JSON lines that name the invocation and the execution", function()
    local report = bootstrap({ "not json",
      { execution_id = "arn:aws:states:us-east-1:123456789012:execution:sq:e3", event = {} } },
      "", { SSL_CERT_FILE = "" })
    local lines = helper.json_lines(report.stderr)
    local by_message = {}
    for _, line in ipairs(lines) do
      assert.is_string(line.level)
      assert.is_string(line.message)
      by_message[line.message] = line
    end
    local ready = by_message.ready
    local samples = queries.load_dir(helper.root .. "/scheduled_queries")
    assert.are.same({ level = "info", message = "ready", queries = #samples.list,
      ca_bundle = "/etc/ssl/certs/ca-certificates.crt" }, ready)
    local not_json = by_message["invocation failed: the event is not JSON: Expected value but "
      .. "found invalid token at character 1"]
    assert.are.same({ level = "error", message = not_json.message, error_type = "InvalidEvent",
      request_id = report.invocations[1].requestId }, not_json)
    local failed
    for _, line in ipairs(lines) do
      if line.execution_id then
        failed = line
      end
    end
    assert.are.equal("arn:aws:states:us-east-1:123456789012:execution:sq:e3", failed.execution_id)
    assert.are.equal(report.invocations[2].requestId, failed.request_id)
    assert.are.equal("InvalidEvent", failed.error_type)
  end)
end)
