-- The C host under valgrind on whole runs: every primitive a run touches
-- (clock, fs, sqlite, http, sigv4, kinesis) with no invalid access and no
-- leak. Plain runs of the same commands are specified elsewhere.
local servers = require("support.servers")
local e2e = require("support.e2e")

local VALGRIND = { "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite,indirect" }

-- Runs bin/host under valgrind; returns the e2e.host result.
local function under_valgrind(argv, env, input)
  local program = { table.unpack(VALGRIND) }
  program[#program + 1] = e2e.HOST
  return e2e.command(program, argv, env, input)
end

describe("bin/host under valgrind", function()
  teardown(function()
    e2e.cleanup()
  end)

  it("runs the sample packs on the offline engine cleanly", function()
    local result = under_valgrind({ "run", "--engine", "local", "--data",
      e2e.ROOT .. "/samples/data", "--clock", "2020-02-13T22:06:20Z" })
    assert.are.equal(0, result.status, result.stderr)
    assert.are.equal(8, #e2e.json_lines(result.stdout))
  end)

  it("runs a pass against Athena and Kinesis test servers cleanly", function()
    local server = servers.start({ "--kinesis" })
    e2e.create_stream(server, "streamquery-results")
    server:scripts({ { match = "-- v", result = { generate = { rows = 3000, columns = 3,
                                                                width = 50 } } } })
    local p = e2e.project({}, { ["v.lua"] = e2e.query_source("v", "-- v\nSELECT 1") })
    local result = under_valgrind({ "pass", "--config", p.config, "--queries", p.queries },
      server:env(), '{"streamquery_configuration":{"clock":"2020-02-13T22:06:20Z",'
        .. '"tags":["hourly"]}}')
    local records = e2e.read_stream(server, "streamquery-results")
    server:stop()
    assert.are.equal(0, result.status, result.stderr)
    assert.truthy(result.stdout:find('"done":1', 1, true), result.stdout)
    local rows = 0
    for _, r in ipairs(records) do
      rows = rows + r.record.data.count
    end
    assert.are.equal(3000, rows)
  end)
end)
