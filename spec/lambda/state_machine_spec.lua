-- End to end as on AWS: the EventBridge input transformer of deploy/ makes
-- the first event, the state machine rendered from the sample configuration
-- is played by spec/servers/sfn_driver.js, which invokes bin/host lambda
-- through the Runtime API until the execution ends, and the records arrive
-- in kinesalite behind the AWS test server.
local cjson = require("cjson")
local servers = require("support.servers")
local e2e = require("support.e2e")
local helper = require("lambda.helper")
local queries = require("sq.queries")
local render = require("deploy.render")

local EVENT_TIME = "2020-02-13T22:01:00Z"
local RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/streamquery_streamquery_hourly"

-- The first event EventBridge sends for the hourly pack.
local function first_event()
  local parsed = render.terraform()
  local target = render.block(parsed, "resource", "aws_cloudwatch_event_target", "pack")
  return render.input_transformer(target.input_transformer[1], "hourly",
    { id = "9f0b2a71-5d5e-4c38-a1a4-5b8f3c1e2d77", time = EVENT_TIME, resources = { RULE_ARN } },
    RULE_ARN)
end

-- The sample queries of a pack, by name.
local function sample_names(tag)
  local set = assert(queries.load_dir(helper.root .. "/scheduled_queries"))
  local names = {}
  for _, query in ipairs(set.list) do
    for _, t in ipairs(query.tags) do
      if t == tag then
        names[#names + 1] = query.name
      end
    end
  end
  table.sort(names)
  return names
end

describe("the state machine driving bin/host lambda", function()
  local server, definition_file, dir
  local cfg = render.sample_config()

  -- Plays one execution; returns the driver's report.
  local function execute(input, name, extra)
    local input_file = helper.json_file(dir, name .. ".json", input)
    local words = { "node", helper.quote(helper.servers .. "/sfn_driver.js"),
      "--definition", helper.quote(definition_file), "--input", helper.quote(input_file),
      "--function-arn", helper.quote(render.FUNCTION_ARN), "--execution-name", name,
      "--timeout-secs", tostring(cfg.lambda.timeout), extra or "" }
    local env = server:env()
    env.SSL_CERT_FILE = nil
    for key, value in pairs(env) do
      words[#words + 1] = "--env " .. helper.quote(key .. "=" .. value)
    end
    words[#words + 1] = "-- " .. helper.quote(helper.root .. "/bin/host") .. " lambda"
    local output, ok = helper.run(table.concat(words, " ") .. " 2>&1")
    assert(ok, "sfn_driver.js failed: " .. output)
    return cjson.decode(output)
  end

  -- How many times the execution went through the Wait state.
  local function waits_of(report)
    local waits = 0
    for _, entry in ipairs(report.history) do
      waits = waits + (entry.state == "WaitForQueries" and 1 or 0)
    end
    return waits
  end

  local function states_of(report)
    local names = {}
    for _, entry in ipairs(report.history) do
      names[#names + 1] = entry.state
    end
    return names
  end

  setup(function()
    server = servers.start({ "--kinesis" })
    e2e.create_stream(server, cfg.stream)
    dir = helper.tmpdir()
    definition_file = dir .. "/definition.json"
    helper.write(definition_file, render.state_machine(cfg))
  end)

  teardown(function()
    server:stop()
    helper.cleanup(dir)
  end)

  before_each(function()
    server:scripts({ { running_polls = 2, data_scanned = 1024, execution_ms = 2000,
      result = { columns = { "user", "count" },
                 rows = { { "bob", "5" }, { "eve", cjson.null } } } } })
  end)

  it("runs the hourly pack to Done, waiting between passes, with every record delivered", function()
    local before = #e2e.read_stream(server, cfg.stream)
    local report = execute(first_event(), "hourly-1")
    assert.are.equal("SUCCEEDED", report.status, cjson.encode(report))
    assert.are.same({}, report.runtime.init_errors)
    assert.are.same({}, report.runtime.protocol_errors)
    local states = states_of(report)
    assert.are.equal("RunQueries", states[1])
    assert.are.equal("Done", states[#states])
    assert.truthy(table.concat(states, " "):find("RunQueries CheckIfDone WaitForQueries "
      .. "RunQueries CheckIfDone", 1, true), table.concat(states, " "))
    assert.are.equal(waits_of(report) * cfg.sfn_wait_secs, report.waited_secs)

    local records = e2e.read_stream(server, cfg.stream)
    local names = {}
    for i = before + 1, #records do
      local record = records[i].record
      names[#names + 1] = record.execution.name
      assert.are.same({ "hourly" }, record.execution.tags)
      assert.are.same({ headers = { "user", "count" }, count = 2,
        rows = { { user = "bob", count = "5" }, { user = "eve", count = cjson.null } } },
        record.data)
      assert.are.same({ index = 1, last = true }, record.execution.part)
      assert.are.equal(1024, record.execution.data_scanned_in_bytes)
    end
    table.sort(names)
    assert.are.same(sample_names("hourly"), names)
  end)

  it("renders every query with the clock of the scheduled event", function()
    local report = execute(first_event(), "hourly-clock")
    assert.are.equal("SUCCEEDED", report.status)
    local started = server:queries()
    local audit
    for _, query in ipairs(started) do
      if query.query:find("StartQueryExecution", 1, true) then
        audit = query
      end
    end
    assert.truthy(audit.query:find("dt = '2020-02-13-21'", 1, true), audit.query)
  end)

  it("starts each query once per execution, and afresh when the same input is replayed", function()
    local input = first_event()
    local count = #sample_names("hourly")
    local first = #server:queries()
    assert.are.equal("SUCCEEDED", execute(input, "replay-a").status)
    local after_first = server:queries()
    assert.are.equal(first + count, #after_first)
    assert.are.equal("SUCCEEDED", execute(input, "replay-b").status)
    local after_replay = server:queries()
    assert.are.equal(first + 2 * count, #after_replay)
    local tokens = {}
    for i = first + 1, #after_replay do
      assert.is_nil(tokens[after_replay[i].token], "a token was used twice")
      tokens[after_replay[i].token] = true
    end
  end)

  it("gives each pass the time the invocation's deadline leaves", function()
    local before = #server:queries()
    local env = server:env()
    env.SSL_CERT_FILE = nil
    local command = helper.quote(helper.root .. "/bin/host") .. " lambda"
    local report = helper.play({ events = { first_event() }, env = env, command = command,
      timeout_secs = 0 })
    assert.are.equal(0, report.invocations[1].response.done)
    assert.are.equal(before, #server:queries()) -- no time left: nothing started
    report = helper.play({ events = { first_event() }, env = env, command = command,
      timeout_secs = cfg.lambda.timeout })
    assert.are.equal("response", report.invocations[1].outcome)
    assert.are.equal(before + #sample_names("hourly"), #server:queries())
  end)

  it("retries the task when the Lambda service fails, as the definition says", function()
    local report = execute(first_event(), "service-errors", "--service-errors 2")
    assert.are.equal("SUCCEEDED", report.status)
    assert.are.same({ "Lambda.ServiceException", "Lambda.ServiceException" },
      report.history[1].errors)
    assert.are.equal("RunQueries", report.history[1].state)
    -- two retries: 2 s, then 2 s * BackoffRate 2
    assert.are.equal(2 + 4 + waits_of(report) * cfg.sfn_wait_secs, report.waited_secs)
  end)

  it("ends in FatalError with the function's error when the event is bad", function()
    local report = execute({ streamquery_configuration = { clock = "yesterday",
      tags = { "hourly" } } }, "bad-event")
    assert.are.equal("FAILED", report.status)
    assert.are.equal("InvalidEvent", report.error)
    local cause = cjson.decode(report.cause)
    assert.are.equal("InvalidEvent", cause.errorType)
    assert.truthy(cause.errorMessage:find("yesterday", 1, true), cause.errorMessage)
    assert.are.same({ "RunQueries", "FatalError" }, states_of(report))
    -- the function was still serving: the driver stopped it
    assert.are.equal("SIGTERM", report.runtime.exit.signal)
  end)
end)
