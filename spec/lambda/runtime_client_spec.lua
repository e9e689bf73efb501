-- The Runtime API client (host.runtime) against the test server, in this
-- process: what it receives, what it sends, and how it fails.
local cjson = require("cjson")
local runtime = require("host.runtime")
local helper = require("lambda.helper")

local ARN = "arn:aws:lambda:eu-west-1:111122223333:function:sq-test"

-- Starts the test server with events waiting for a client in this process.
local function serve(events)
  local dir = helper.tmpdir()
  local pid = helper.spawn(table.concat({ "node", helper.quote(helper.servers
    .. "/lambda_runtime.js"), "--events", helper.quote(helper.json_file(dir, "events.json",
    events)), "--address-file", helper.quote(dir .. "/address"), "--give-up-secs 20",
    "--timeout-secs 90", "--function-arn", ARN, "--stop-file", helper.quote(dir .. "/stop") },
    " "), dir .. "/report")
  assert(helper.wait_file(dir .. "/address"), "the test server did not start")
  local server = { dir = dir, pid = pid, address = helper.read(dir .. "/address") }
  function server.report()
    helper.write(dir .. "/stop", "stop")
    assert(helper.wait_exit(pid), "the test server did not stop")
    local report = cjson.decode(helper.read(dir .. "/report"))
    helper.cleanup(dir)
    return report
  end
  return server
end

describe("host.runtime", function()
  it("hands over each invocation's body and headers, and delivers responses and errors", function()
    local server = serve({ { n = 1 }, "not json" })
    local client = runtime.client(server.address)

    local body, info = client:next()
    assert.are.same({ n = 1 }, cjson.decode(body))
    assert.are.equal(ARN, info.function_arn)
    assert.truthy(info.request_id:match("^%x+%-%x+%-%x+%-%x+%-%x+$"), info.request_id)
    assert.are.equal(math.type(info.deadline_ms), "integer")
    assert.truthy(info.remaining_ms > 80000 and info.remaining_ms <= 90000, info.remaining_ms)
    assert.truthy(info.trace_id:match("^Root=1%-%x+%-%x+;Parent=%x+;Sampled=0$"), info.trace_id)
    assert.are.equal(info.trace_id, os.getenv("_X_AMZN_TRACE_ID"))
    assert.is_true(client:respond(info.request_id, '{"done":1}'))
    local first = info

    body, info = client:next()
    assert.are.equal("not json", body) -- a string event is sent as it is
    assert.are_not.equal(first.request_id, info.request_id)
    assert.are.equal(info.trace_id, os.getenv("_X_AMZN_TRACE_ID"))
    assert.is_true(client:fail(info.request_id, "InvalidEvent", 'a "quoted"\nmessage\1'))
    client:close()

    local report = server.report()
    assert.are.same({}, report.protocol_errors)
    assert.are.same({ requestId = first.request_id, traceId = first.trace_id,
      outcome = "response", response = { done = 1 } }, report.invocations[1])
    assert.are.same({ requestId = info.request_id, traceId = info.trace_id, outcome = "error",
      errorTypeHeader = "InvalidEvent",
      error = { errorType = "InvalidEvent", errorMessage = 'a "quoted"\nmessage\1' } },
      report.invocations[2])
  end)

  it("reports a start-up failure to init/error", function()
    local server = serve({})
    local client = runtime.client(server.address)
    assert.is_true(client:init_error("InvalidConfiguration", "conf/x.json: $.packs: broken"))
    client:close()
    local report = server.report()
    assert.are.same({ { errorTypeHeader = "InvalidConfiguration", error = {
      errorType = "InvalidConfiguration", errorMessage = "conf/x.json: $.packs: broken" } } },
      report.init_errors)
  end)

  it("returns the server's refusal when a request id is unknown", function()
    local server = serve({})
    local client = runtime.client(server.address)
    local ok, err = client:respond("no-such-id", "{}")
    assert.is_nil(ok)
    assert.are.equal("the Lambda Runtime API answered HTTP 400 to /invocation/no-such-id/response: "
      .. '{"errorMessage":"request id no-such-id is unknown","errorType":"InvalidRequestID"}', err)
    client:close()
    server.report()
  end)

  it("says which address it cannot reach", function()
    local client = runtime.client("127.0.0.1:1")
    local body, err = client:next()
    assert.is_nil(body)
    assert.truthy(err:find("cannot reach the Lambda Runtime API at 127.0.0.1:1: ", 1, true), err)
    client:close()
  end)

  it("refuses request ids and error types that would break the URL or a header", function()
    local client = runtime.client("127.0.0.1:1")
    assert.has_error(function() client:respond("../init/error", "{}") end,
      "bad argument #1 to 'respond' (request id ../init/error has a character other than "
      .. "letters, digits and . _ - :)")
    assert.has_error(function() client:fail("id", "Bad\r\nX-Injected: 1", "m") end)
    client:close()
    assert.has_error(function() client:next() end, "the Runtime API client is closed")
  end)

  it("needs AWS_LAMBDA_RUNTIME_API when no address is given", function()
    local output = helper.run("env -u AWS_LAMBDA_RUNTIME_API lua5.4 -e "
      .. helper.quote("print(select(2, require('host.runtime').client()))"))
    assert.are.equal("AWS_LAMBDA_RUNTIME_API is not set: the lambda command runs inside "
      .. "AWS Lambda (or next to a Runtime API test server)\n", output)
  end)
end)
