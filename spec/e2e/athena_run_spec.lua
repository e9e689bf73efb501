-- End to end: bin/host run and bin/host pass against the Athena test
-- server, with records read back from kinesalite behind the
-- signature-checking server.
local cjson = require("cjson")
local servers = require("support.servers")
local e2e = require("support.e2e")

local CLOCK = "2020-02-13T22:06:20Z"
local server

local project = e2e.test_project

local function run(p, extra, env)
  local argv = { "run", "--config", p.config, "--queries", p.queries, "--clock", CLOCK,
                 "--tags", "hourly" }
  extra = extra or { "--wait", "0" }
  for _, arg in ipairs(extra) do
    argv[#argv + 1] = arg
  end
  local environment = server:env()
  for name, value in pairs(env or {}) do
    environment[name] = value
  end
  return e2e.host(argv, environment)
end

local stream_number = 0
local function new_stream()
  stream_number = stream_number + 1
  local name = "results-" .. stream_number
  e2e.create_stream(server, name)
  return name
end

describe("bin/host run against Athena and Kinesis test servers", function()
  setup(function()
    server = servers.start({ "--kinesis" })
  end)

  teardown(function()
    server:stop()
    e2e.cleanup()
  end)

  before_each(function()
    server:reset()
  end)

  it("delivers records equal to the expected records, row by row", function()
    local stream = new_stream()
    server:scripts({
      { match = "-- users", data_scanned = 4783293, execution_ms = 12374, running_polls = 1,
        result = { columns = { "username", "time" },
                   rows = { { "bob", "1" }, { "sally", cjson.null }, { "joe", "3" } } } },
    })
    local sql = "-- users\nSELECT * FROM t WHERE dt = '{utcdatehour_minus1hour}'"
    local p = project({ users = { sql = sql } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(0, result.status, result.stderr)
    local got = e2e.read_stream(server, stream)
    assert.are.equal(1, #got)
    local record = got[1].record
    local id = record.execution.query_execution_id
    assert.are.same({
      streamquery_schema_version = "1.0.0",
      execution = {
        name = "users", description = "test query users",
        query = "-- users\nSELECT * FROM t WHERE dt = '2020-02-13-21'",
        query_parameters = { utcdatehour_minus1hour = "2020-02-13-21" },
        data_scanned_in_bytes = 4783293, execution_time_ms = 12374, tags = { "hourly" },
        query_execution_id = id,
        console_link = "https://us-east-1.console.aws.amazon.com/athena/home?region=us-east-1"
          .. "#/query-editor/history/" .. id,
        part = { index = 1, last = true },
      },
      data = { headers = { "username", "time" },
               rows = { { username = "bob", time = "1" }, { username = "sally", time = cjson.null },
                        { username = "joe", time = "3" } },
               count = 3 },
    }, record)
    assert.are.equal("users:1", got[1].key)
    local started = server:queries()
    assert.are.equal(1, #started)
    assert.are.equal("streamalert", started[1].database)
  end)

  it("delivers a 25,000-row result of wide rows as several records under 1 MiB", function()
    local stream = new_stream()
    server:scripts({ { match = "-- wide", result = { generate = { rows = 25000, columns = 3,
                                                                    width = 400 } } } })
    local p = project({ wide = { sql = "-- wide\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(0, result.status, result.stderr)
    local parts = e2e.parts_of(e2e.read_stream(server, stream), "wide")
    assert.is_true(#parts >= 29, "parts: " .. #parts)
    local expected_row = 0
    for i, part in ipairs(parts) do
      assert.is_true(#part.text + #part.key <= 1024 * 1024)
      assert.are.same({ index = i, last = i == #parts }, part.record.execution.part)
      assert.are.equal(#part.record.data.rows, part.record.data.count)
      for _, row in ipairs(part.record.data.rows) do
        expected_row = expected_row + 1
        local seed = "r" .. expected_row .. "c2"
        assert.are.equal(seed:rep(400):sub(1, 400), row.c2)
      end
    end
    assert.are.equal(25000, expected_row)
  end)

  it("cuts a row over 1 MiB to fit and says data.truncated", function()
    local stream = new_stream()
    server:scripts({ { match = "-- huge", result = { generate = { rows = 2, columns = 2,
                                                                    width = 700000 } } } })
    local p = project({ huge = { sql = "-- huge\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(0, result.status, result.stderr)
    local parts = e2e.parts_of(e2e.read_stream(server, stream), "huge")
    assert.are.equal(2, #parts)
    for i, part in ipairs(parts) do
      assert.is_true(part.record.data.truncated)
      assert.is_true(#part.text + #part.key <= 1024 * 1024)
      local row = part.record.data.rows[1]
      assert.are.equal(("r" .. i .. "c1"):rep(700000):sub(1, #row.c1), row.c1)
      assert.is_true(#row.c1 + #row.c2 > 1000000)
    end
  end)

  it("sends no row twice when PutRecords keeps failing some records, then recovers", function()
    local stream = new_stream()
    server:scripts({ { match = "-- flaky", result = { generate = { rows = 5000, columns = 2,
                                                                     width = 300 } } } })
    server:faults({ { target = "Kinesis_20131202.PutRecords", action = "partial",
                      fail_every = 2, times = 6 } })
    local p = project({ flaky = { sql = "-- flaky\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(0, result.status, result.stderr)
    local parts = e2e.parts_of(e2e.read_stream(server, stream), "flaky")
    local seen, count = {}, 0
    for i, part in ipairs(parts) do
      assert.are.equal(i, part.record.execution.part.index, "each part exactly once")
      for _, row in ipairs(part.record.data.rows) do
        assert.is_nil(seen[row.c1], "row sent twice: " .. row.c1:sub(1, 12))
        seen[row.c1] = true
        count = count + 1
      end
    end
    assert.are.equal(5000, count)
    assert.is_true(parts[#parts].record.execution.part.last)
  end)

  it("stops a query that runs past its timeout_secs and reports it", function()
    local stream = new_stream()
    server:scripts({ { match = "-- slow", running_polls = 1000000 } })
    local p = project({ slow = { sql = "-- slow\nSELECT 1", extra = "  timeout_secs = 1,\n" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p, { "--wait", "0.6" })
    assert.are.equal(1, result.status, result.stderr)
    local parts = e2e.parts_of(e2e.read_stream(server, stream), "slow")
    assert.are.equal(1, #parts)
    assert.truthy(parts[1].record.execution.error.description:find("timed out after", 1, true))
    assert.are.same({ headers = {}, rows = {}, count = 0 }, parts[1].record.data)
    assert.are.equal("CANCELLED", server:queries()[1].state)
  end)

  it("stops what still runs when sfn_timeout_secs runs out, and reports every query", function()
    local stream = new_stream()
    server:scripts({ { match = "-- endless", running_polls = 1000000 },
                     { match = "-- quick", result = { columns = { "a" }, rows = { { "1" } } } } })
    local p = project({ endless = { sql = "-- endless\nSELECT 1" },
                        quick = { sql = "-- quick\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream, sfn_timeout_secs = 3,
                   sfn_wait_secs = 1 } })
    local result = run(p, {})
    assert.are.equal(1, result.status, result.stderr)
    local records = e2e.read_stream(server, stream)
    local endless = e2e.parts_of(records, "endless")
    assert.are.equal(1, #endless)
    assert.are.equal("timed out: the execution reached sfn_timeout_secs (3 s)",
      endless[1].record.execution.error.description)
    assert.are.same({ { a = "1" } }, e2e.parts_of(records, "quick")[1].record.data.rows)
    for _, q in ipairs(server:queries()) do
      if q.query:find("endless", 1, true) then
        assert.are.equal("CANCELLED", q.state)
      end
    end
  end)

  it("waits between passes while a result cannot be read, and reports it at the end", function()
    local stream = new_stream()
    server:scripts({ { match = "-- unreadable",
                       result = { columns = { "a" }, rows = { { "1" } } } } })
    server:faults({ { target = "AmazonAthena.GetQueryResults", action = "status", status = 500,
                      code = "InternalServerException" } })
    local p = project({ unreadable = { sql = "-- unreadable\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream, sfn_timeout_secs = 3,
                   sfn_wait_secs = 1 } })
    local result = run(p, {})
    assert.are.equal(1, result.status, result.stderr)
    local passes = 0
    for _ in result.stderr:gmatch("pass %d+:") do
      passes = passes + 1
    end
    assert.is_true(passes <= 4, "passes: " .. passes) -- it waited sfn_wait_secs between them
    local parts = e2e.parts_of(e2e.read_stream(server, stream), "unreadable")
    assert.are.equal(1, #parts)
    assert.truthy(parts[1].record.execution.error.description:find(
      "could not read the result: InternalServerException", 1, true))
  end)

  it("sends an error record for a failed query while the others are delivered", function()
    local stream = new_stream()
    server:scripts({ { match = "-- broken", final = "FAILED", reason = "Table not found" },
                     { match = "-- fine", result = { columns = { "a" }, rows = { { "1" } } } } })
    local p = project({ broken = { sql = "-- broken\nSELECT 1" },
                        fine = { sql = "-- fine\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(1, result.status)
    assert.truthy(result.stderr:find("queries that did not succeed: broken", 1, true),
      result.stderr)
    local records = e2e.read_stream(server, stream)
    local broken, fine = e2e.parts_of(records, "broken"), e2e.parts_of(records, "fine")
    assert.are.equal("FAILED: Table not found", broken[1].record.execution.error.description)
    assert.are.same({ { a = "1" } }, fine[1].record.data.rows)
  end)

  it("paces its starts to start_rate_per_second so that Athena never refuses one", function()
    server:control("POST", "/__control/config", { latency_ms = 5, athena_rate = 20 })
    local defs = {}
    for i = 1, 50 do
      defs[string.format("q%02d", i)] = { sql = string.format("-- q%02d\nSELECT 1", i) }
    end
    local p = project(defs, { limits = { max_concurrent_queries = 1000,
                                         start_rate_per_second = 20 } })
    local result = run(p, { "--wait", "0", "--sink", "count" })
    assert.are.equal(0, result.status, result.stderr)
    assert.are.equal(50, #server:queries())
    local stats = server:stats()
    assert.are.equal(0, stats.athena_rate_throttled)
    assert.are.equal(50, stats.by_target["AmazonAthena.StartQueryExecution"])
  end)

  it("starts throttled queries on a later pass", function()
    local stream = new_stream()
    server:scripts({ { match = "-- busy", start_error = { code = "TooManyRequestsException",
                                                          status = 400, times = 4 },
                       result = { columns = { "a" }, rows = { { "ok" } } } } })
    local p = project({ busy = { sql = "-- busy\nSELECT 1" } },
      { config = { destination_kinesis_stream = stream } })
    local result = run(p)
    assert.are.equal(0, result.status, result.stderr)
    assert.truthy(result.stderr:find("pass 2:", 1, true), result.stderr)
    assert.are.same({ { a = "ok" } }, e2e.parts_of(e2e.read_stream(server, stream),
      "busy")[1].record.data.rows)
    assert.are.equal(1, #server:queries())
  end)
end)
