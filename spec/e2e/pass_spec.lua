-- End to end: bin/host pass, one invocation at a time, as Step Functions
-- drives the Lambda function: events in both the original system's shapes
-- and this project's, time budgets, replays and bad input.
local cjson = require("cjson")
local servers = require("support.servers")
local e2e = require("support.e2e")

local CLOCK = "2020-02-13T22:06:20Z"
local FIRST_EVENT = {
  name = "streamalert_scheduled_queries_cloudwatch_trigger",
  event_id = "12345678-53e7-b479-0601-1234567890",
  source_arn = "arn:aws:events:us-east-1:123456789012:rule/prefix_streamalert_scheduled_queries",
  streamquery_configuration = { clock = CLOCK, tags = { "hourly" } },
}
local server

local project = e2e.test_project

-- One pass: returns the result of bin/host and the decoded response.
local function pass(p, event, extra)
  local argv = { "pass", "--config", p.config, "--queries", p.queries }
  for _, arg in ipairs(extra or {}) do
    argv[#argv + 1] = arg
  end
  local input = type(event) == "string" and event or cjson.encode(event)
  local result = e2e.host(argv, server:env(), input)
  local ok, response = pcall(cjson.decode, result.stdout or "")
  return result, ok and response or nil
end

local function started_queries()
  local list = {}
  for _, q in ipairs(server:queries()) do
    list[#list + 1] = q
  end
  return list
end

describe("bin/host pass", function()
  setup(function()
    server = servers.start({ "--kinesis" })
    e2e.create_stream(server, "streamquery-results")
  end)

  teardown(function()
    server:stop()
    e2e.cleanup()
  end)

  before_each(function()
    server:reset()
  end)

  it("resumes a pass cut short by its time budget with no row lost or repeated", function()
    server:scripts({ { match = "-- big", result = { generate = { rows = 12000, columns = 2,
                                                                   width = 20 } } } })
    server:faults({ { target = "AmazonAthena.GetQueryResults", action = "delay",
                      delay_ms = 250 } })
    local out = e2e.tmpdir() .. "/records.jsonl"
    local p = project({ big = { sql = "-- big\nSELECT 1" } })
    local event, passes = FIRST_EVENT, 0
    repeat
      local result, response = pass(p, event, { "--budget", "1", "--sink", "file:" .. out })
      assert.are.equal(0, result.status, result.stderr)
      event, passes = response, passes + 1
    until response.done == 1 or passes > 40
    assert.are.equal(1, event.done)
    assert.is_true(passes >= 3, "the budget should have cut the result over several passes")
    local count, index = 0, 0
    for _, record in ipairs(e2e.json_lines(e2e.read(out))) do
      index = index + 1
      assert.are.equal(index, record.execution.part.index)
      for _, row in ipairs(record.data.rows) do
        count = count + 1
        assert.are.equal(("r" .. count .. "c1"):rep(20):sub(1, 20), row.c1)
      end
    end
    assert.are.equal(12000, count)
    assert.is_true(event.step_function_state.big.sent_to_streamalert)
    assert.are.equal(1, #started_queries())
  end)

  it("resumes records batched across pages after failures and budgets, each row once",
    function()
      server:scripts({ { match = "-- mixed", result = { generate = { rows = 20000,
                                                                       columns = 3,
                                                                       width = 200 } } } })
      server:faults({
        { target = "Kinesis_20131202.PutRecords", action = "partial", fail_every = 3,
          times = 5 },
        { target = "AmazonAthena.GetQueryResults", action = "delay", delay_ms = 150,
          after = 3 } })
      local p = project({ mixed = { sql = "-- mixed\nSELECT 1" } })
      local event, passes = FIRST_EVENT, 0
      repeat
        local result, response = pass(p, event, { "--budget", "1" })
        assert.is_true(result.status <= 1, result.stderr)
        event, passes = response, passes + 1
      until response.done == 1 or passes > 60
      assert.are.equal(1, event.done)
      local parts, count = {}, 0
      for _, got in ipairs(e2e.parts_of(e2e.read_stream(server, "streamquery-results"),
                                         "mixed")) do
        local record = got.record
        local index = record.execution.part.index
        assert.is_nil(parts[index], "part " .. index .. " sent twice")
        parts[index] = record
      end
      for index, record in ipairs(parts) do
        assert.are.equal(index == #parts, record.execution.part.last)
        for _, row in ipairs(record.data.rows) do
          count = count + 1
          assert.are.equal(("r" .. count .. "c1"):rep(200):sub(1, 200), row.c1)
        end
      end
      assert.are.equal(20000, count)
    end)

  it("renders the same SQL on a replay and starts it afresh, but never twice on a retry",
    function()
      local p = project({ q = { sql = "-- q\nSELECT '{utcdatehour_minus1hour}'" } })
      local sink = { "--sink", "file:" .. e2e.tmpdir() .. "/out.jsonl" }
      local execution = { execution_id = "arn:aws:states:us-east-1:1:execution:sm:one",
                          event = FIRST_EVENT }
      pass(p, execution, sink)
      pass(p, execution, sink) -- Step Functions retrying the same task
      assert.are.equal(1, #started_queries())
      pass(p, { execution_id = "arn:aws:states:us-east-1:1:execution:sm:two",
                event = FIRST_EVENT }, sink)
      local started = started_queries()
      assert.are.equal(2, #started)
      assert.are.equal("-- q\nSELECT '2020-02-13-21'", started[1].query)
      assert.are.equal(started[1].query, started[2].query)
      assert.are_not.equal(started[1].token, started[2].token)
    end)

  it("accepts the original system's first event and a state it produced mid-execution",
    function()
      server:scripts({ { match = "-- mid", running_polls = 1,
                         result = { columns = { "a" }, rows = { { "x" } } } } })
      local p = project({ mid = { sql = "-- mid\nSELECT 1" } })
      local out = e2e.tmpdir() .. "/out.jsonl"
      local result, response = pass(p, FIRST_EVENT, { "--sink", "file:" .. out })
      assert.are.equal(0, result.status, result.stderr)
      assert.are.equal(0, response.done)
      local id = response.step_function_state.mid.query_execution_id
      local original = { done = 0, ["continue"] = 1, step_function_state = {
        streamquery_configuration = { clock = CLOCK, tags = { "hourly" } },
        mid = { query_execution_id = id } } }
      result, response = pass(p, original, { "--sink", "file:" .. out })
      assert.are.equal(0, result.status, result.stderr)
      assert.are.equal(1, response.done)
      assert.are.same({ query_execution_id = id, sent_to_streamalert = true },
        response.step_function_state.mid)
      local records = e2e.json_lines(e2e.read(out))
      assert.are.same({ { a = "x" } }, records[1].data.rows)
    end)

  it("reports a query whose id Athena does not know instead of waiting for it forever",
    function()
      local p = project({ lost = { sql = "-- lost\nSELECT 1" } })
      local out = e2e.tmpdir() .. "/out.jsonl"
      local state = { done = 0, ["continue"] = 1, step_function_state = {
        streamquery_configuration = { clock = CLOCK, tags = { "hourly" } },
        lost = { query_execution_id = "0e0e0e0e-0000-4000-8000-000000000000" } } }
      local result, response = pass(p, state, { "--sink", "file:" .. out })
      assert.are.equal(1, result.status, result.stderr)
      assert.are.equal(1, response.done)
      assert.are.same({ query_execution_id = "0e0e0e0e-0000-4000-8000-000000000000",
        sent_to_streamalert = true, error = "FAILED" }, response.step_function_state.lost)
      local record = e2e.json_lines(e2e.read(out))[1]
      assert.are.equal("FAILED: INVALID_INPUT: Query execution "
        .. "0e0e0e0e-0000-4000-8000-000000000000 was not found",
        record.execution.error.description)
    end)

  it("sends an error record for a query that cannot render; the others go on", function()
    server:scripts({ { match = "-- ok", result = { columns = { "a" }, rows = { { "1" } } } } })
    local p = e2e.project({}, {
      ["bad.lua"] = [[
query { name = "bad", description = "d", tags = { "hourly" },
  params = { when = function(clock) return { clock:iso() } end },
  query = "SELECT '{when}'" }
]],
      ["ok.lua"] = e2e.query_source("ok", "-- ok\nSELECT 1"),
    })
    local out = e2e.tmpdir() .. "/out.jsonl"
    local result, response = pass(p, FIRST_EVENT, { "--sink", "file:" .. out })
    assert.are.equal(1, result.status, result.stderr)
    assert.are.equal(1, response.done)
    assert.are.equal("RENDER_FAILED", response.step_function_state.bad.error)
    local by_name = {}
    for _, record in ipairs(e2e.json_lines(e2e.read(out))) do
      by_name[record.execution.name] = record
    end
    assert.truthy(by_name.bad.execution.error.description:find("cannot render the query", 1, true))
    assert.are.same({ { a = "1" } }, by_name.ok.data.rows)
  end)

  it("fails clearly on a missing Kinesis stream, marks nothing sent and keeps its progress",
    function()
      local p = project({ q = { sql = "-- q\nSELECT 1" } },
        { config = { destination_kinesis_stream = "no-such-stream" } })
      local result, response = pass(p, FIRST_EVENT)
      assert.are.equal(1, result.status)
      assert.truthy(result.stderr:find('Kinesis stream "no-such-stream": not found '
        .. "(ResourceNotFoundException", 1, true), result.stderr)
      assert.are.equal(0, response.done)
      local entry = response.step_function_state.q
      assert.are.equal(started_queries()[1].id, entry.query_execution_id)
      assert.is_nil(entry.sent_to_streamalert)
    end)

  it("ends every AWS call in time for its budget, even when the server hangs", function()
    server:scripts({ { match = "-- h", result = { columns = { "a" }, rows = { { "1" } } } } })
    server:faults({ { target = "AmazonAthena.GetQueryResults", action = "hang" } })
    local p = project({ h = { sql = "-- h\nSELECT 1" } })
    local input = e2e.tmpdir() .. "/event.json"
    e2e.write(input, cjson.encode(FIRST_EVENT))
    -- timeout(1) ends the pass if it does not end by itself well after its budget
    local bounded = e2e.command({ "timeout", "15", e2e.HOST }, { "pass", "--config", p.config,
      "--queries", p.queries, "--budget", "2", "--sink", "count", input }, server:env())
    assert.are_not.equal(124, bounded.status, "the pass did not end by itself")
    assert.are.equal(0, bounded.status, bounded.stderr)
    local response = cjson.decode(bounded.stdout)
    assert.are.equal(0, response.done)
    assert.is_nil(response.step_function_state.h.sent_to_streamalert)
  end)

  it("reports every query on the last pass, even results it had no time to deliver", function()
    server:scripts({ { match = "-- last", running_polls = 1,
                       result = { columns = { "a" }, rows = { { "1" } } } } })
    local p = project({ last_a = { sql = "-- last a\nSELECT 1" },
                        last_b = { sql = "-- last b\nSELECT 1" } })
    local out = e2e.tmpdir() .. "/out.jsonl"
    local result, response = pass(p, FIRST_EVENT, { "--sink", "file:" .. out })
    assert.are.equal(0, result.status, result.stderr)
    assert.are.equal(0, response.done) -- both started, both still running
    server:faults({ { target = "AmazonAthena.GetQueryResults", action = "hang" } })
    local configuration = response.step_function_state.streamquery_configuration
    configuration.started_at = configuration.started_at - 117 -- 3 s of sfn_timeout_secs left
    result, response = pass(p, response, { "--budget", "3", "--sink", "file:" .. out })
    assert.are.equal(1, result.status, result.stderr)
    assert.are.equal(1, response.done)
    local reasons = {}
    for _, record in ipairs(e2e.json_lines(e2e.read(out))) do
      reasons[#reasons + 1] = record.execution.error.description:match("^[^:]+: [^:]+")
    end
    table.sort(reasons)
    assert.are.same({ "could not read the result: DeadlineExceeded",
                      "timed out: the execution reached sfn_timeout_secs before the whole "
                        .. "result was delivered" }, reasons)
  end)

  it("says so and exits 1 when Kinesis keeps refusing records, and retries them later",
    function()
      server:scripts({ { match = "-- k", result = { columns = { "a" }, rows = { { "1" } } } } })
      server:faults({ { target = "Kinesis_20131202.PutRecords", action = "partial",
                        fail_every = 1 } })
      local p = project({ k = { sql = "-- k\nSELECT 1" } })
      local result, response = pass(p, FIRST_EVENT)
      assert.are.equal(1, result.status, result.stderr)
      assert.truthy(result.stderr:find("records not delivered, to be sent again in the next "
        .. "pass: ProvisionedThroughputExceededException x1", 1, true), result.stderr)
      assert.are.equal(0, response.done)
      server:control("DELETE", "/__control/faults")
      result, response = pass(p, response)
      assert.are.equal(0, result.status, result.stderr)
      assert.are.equal(1, response.done)
    end)

  it("stops at once, with exit status 2, when there are no credentials", function()
    local p = project({ q = { sql = "SELECT 1" } })
    local env = server:env()
    env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN = "", "", ""
    env.AWS_SHARED_CREDENTIALS_FILE, env.AWS_CONFIG_FILE = "/nonexistent", "/nonexistent"
    local result = e2e.host({ "pass", "--config", p.config, "--queries", p.queries, "--sink",
      "count" }, env, cjson.encode(FIRST_EVENT))
    assert.are.equal(2, result.status, result.stderr)
    assert.truthy(result.stderr:find("cannot start queries: CredentialsError: no AWS "
      .. "credentials found; looked in: environment", 1, true),
      result.stderr)
  end)

  it("is done with a warning when no query carries the event's tags", function()
    local p = project({ q = { sql = "SELECT 1" } })
    local event = { streamquery_configuration = { clock = CLOCK, tags = { "nope" } } }
    local result, response = pass(p, event, { "--sink", "count" })
    assert.are.equal(0, result.status, result.stderr)
    assert.are.equal(1, response.done)
    assert.truthy(result.stderr:find("no query carries all of the tags [nope]", 1, true))
    assert.are.equal(0, #started_queries())
  end)

  it("rejects bad input with a clear message and starts nothing", function()
    local p = project({ q = { sql = "SELECT 1" } })
    local cases = {
      { "{not json", "standard input: the event is not valid JSON" },
      { { streamquery_configuration = { clock = "2020-02-13 22:06", tags = {} } },
        'streamquery_configuration.clock: invalid clock "2020-02-13 22:06"' },
      { { hello = "world" }, "it is not a StreamQuery event" },
      { { streamquery_configuration = { clock = CLOCK, tags = { hourly = true } } },
        'streamquery_configuration.tags must be a list of strings, like ["hourly"]' },
      { { streamquery_configuration = { clock = CLOCK, tag = { "hourly" } } },
        'streamquery_configuration has an unknown key "tag" (expected clock and tags)' },
    }
    for _, case in ipairs(cases) do
      local result = pass(p, case[1], { "--sink", "count" })
      assert.are.equal(2, result.status, result.stderr)
      assert.are.equal("", result.stdout)
      assert.truthy(result.stderr:find(case[2], 1, true), result.stderr)
    end
    local directory = e2e.host({ "pass", "--sink", "count", e2e.tmpdir() }, server:env())
    assert.are.equal(2, directory.status)
    assert.truthy(directory.stderr:find("cannot read the event .*: Is a directory"),
      directory.stderr)
    local missing = e2e.host({ "pass", "--config", "/nonexistent/conf.json", "--sink", "count" },
      server:env(), cjson.encode(FIRST_EVENT))
    assert.are.equal(2, missing.status)
    assert.truthy(missing.stderr:find("/nonexistent/conf.json", 1, true), missing.stderr)
    assert.are.equal(0, #started_queries())
  end)

  it("refuses --sink stdout, which would mix records with the response", function()
    local result = e2e.host({ "pass", "--sink", "stdout" }, {}, "{}")
    assert.are.equal(2, result.status)
    assert.truthy(result.stderr:find("--sink stdout is not possible", 1, true))
  end)

  it("refuses an unknown sink and a budget too short to make progress", function()
    local cases = {
      { { "--sink", "bogus" }, '--sink must be kinesis, stdout, file:PATH or count, got "bogus"' },
      { { "--budget", "0" }, "--budget must be at least 1 second" },
    }
    for _, case in ipairs(cases) do
      local result = e2e.host({ "pass", table.unpack(case[1]) }, {}, "{}")
      assert.are.equal(2, result.status)
      assert.truthy(result.stderr:find(case[2], 1, true), result.stderr)
    end
  end)
end)
