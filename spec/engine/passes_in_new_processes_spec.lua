-- bin/host pass --engine local runs one pass per process, as Lambda may: a query started by
-- one process has no result in the next, which must say so and finish, not wait forever.
local cjson = require("cjson")
local e2e = require("support.e2e")

local ROOT = e2e.ROOT
local EVENT = cjson.encode({ streamquery_configuration = { clock = "2020-02-13T22:06:20Z",
                                                           tags = { "hourly" } } })
local ENV = { AWS_EC2_METADATA_DISABLED = "true", NO_COLOR = "1" }
-- The rows each hourly sample query finds at that clock (samples/data/README.md).
local ROWS = { access_denied_bursts = 1, athena_query_audit = 3, console_login_failures = 1,
               root_account_activity = 6 }

-- The reason a pass in a new process gives for a query of the previous one.
local function lost(id)
  return "FAILED: QUERY_NOT_FOUND: the local engine has no query " .. id .. ": it keeps query"
    .. " results only within the process that started the query, and a pass in a new process"
    .. " cannot read them; run this execution again with bin/host run --engine local, which"
    .. " runs every pass in one process"
end

-- One `bin/host pass` over the shipped queries and sample data; returns the process's
-- { status, stdout, stderr }, its decoded response and the records it wrote.
local function pass(config, input, budget)
  local out = e2e.tmpdir() .. "/records.jsonl"
  local ran = e2e.host({ "pass", "--engine", "local", "--data", ROOT .. "/samples/data",
    "--config", config, "--queries", ROOT .. "/scheduled_queries", "--sink", "file:" .. out,
    "--budget", tostring(budget) }, ENV, input)
  local ok, response = pcall(cjson.decode, ran.stdout or "")
  assert(ok and type(response) == "table", "no response: " .. tostring(ran.stderr))
  return ran, response, e2e.json_lines(e2e.read(out))
end

describe("bin/host pass --engine local, one process per pass", function()
  after_each(function()
    e2e.cleanup()
  end)

  it("finishes in the next process with an error record for each query whose result was lost",
    function()
      -- One start a second and a two-second budget: the first pass starts a query or two,
      -- runs out of time before it delivers anything, and hands the rest to the next pass.
      local slow = e2e.project({ limits = { start_rate_per_second = 1 } })
      local first, response, records = pass(slow.config, EVENT, 2)
      assert.are.equal(0, first.status, first.stderr)
      assert.are.equal(0, response.done)
      assert.are.same({}, records)
      local names, lost_ids = {}, {}
      for name, entry in pairs(response.step_function_state) do
        if name ~= "streamquery_configuration" then
          names[#names + 1] = name
          assert.is_nil(entry.sent_to_streamalert)
          lost_ids[name] = entry.query_execution_id
        end
      end
      table.sort(names)
      assert.are.same({ "access_denied_bursts", "athena_query_audit", "console_login_failures",
                        "root_account_activity" }, names)
      assert.is_not_nil(next(lost_ids), "the first pass started no query")

      -- The next pass, in a new process (at the default rate, to be quick).
      local quick = e2e.project()
      local second, final
      second, final, records = pass(quick.config, cjson.encode(response), 60)
      assert.are.equal(1, second.status, second.stderr) -- a query failed
      assert.are.equal(1, final.done)
      local by_name = {}
      for _, record in ipairs(records) do
        local name = record.execution.name
        assert.is_nil(by_name[name], "two records for " .. name)
        by_name[name] = record
      end
      for _, name in ipairs(names) do
        local record = assert(by_name[name], "no record for " .. name)
        local entry = final.step_function_state[name]
        assert.is_true(entry.sent_to_streamalert)
        if lost_ids[name] then
          assert.are.equal(lost_ids[name], record.execution.query_execution_id)
          assert.are.same({ description = lost(lost_ids[name]) }, record.execution.error)
          assert.are.same({ headers = {}, rows = {}, count = 0 }, record.data)
          assert.are.equal("FAILED", entry.error)
        else
          -- started afresh here, under an id that no query of the first process had
          assert.is_nil(record.execution.error)
          assert.are.equal(entry.query_execution_id, record.execution.query_execution_id)
          for _, id in pairs(lost_ids) do
            assert.are_not.equal(id, entry.query_execution_id)
          end
          assert.are.equal(ROWS[name], record.data.count)
          assert.are.same({ index = 1, last = true }, record.execution.part)
          assert.is_nil(entry.error)
        end
      end
    end)
end)
