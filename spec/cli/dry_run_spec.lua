-- bin/host run --dry-run, run as a user runs it.
local cjson = require("cjson")
local e2e = require("support.e2e")

local ROOT = e2e.ROOT
local FIXTURES = ROOT .. "/spec/fixtures/queries"
local CLOCK = "2020-02-13T22:06:20Z"
local ENV = { ATHENA_DATABASE = "", LOGGER_LEVEL = "" }

local LOGINS = [[
-- logins [hourly, sample]
-- utcdatehour_minus1hour = 2020-02-13-21
-- since = 2020-02-13T21:06:20Z
SELECT useridentity.arn, count(*) AS logins
FROM cloudtrail
WHERE dt = '2020-02-13-21' AND eventtime >= '2020-02-13T21:06:20Z'
  AND eventname = 'ConsoleLogin'
GROUP BY 1

]]

local BRACES = [[
-- braces [hourly]
-- utctimestamp = 1581631580
-- dt = 2020-02-13-22
SELECT '{"at": 1581631580}' AS doc FROM cloudtrail WHERE dt = '2020-02-13-22'

]]

local DAILY_KEYS = [[
-- daily_keys [daily]
-- utcdatehour_minus1day = 2020-02-12-22
-- utcdatehour_minus1hour = 2020-02-13-21
SELECT count(*) FROM cloudtrail WHERE dt BETWEEN '2020-02-12-22' AND '2020-02-13-21' ]]
  .. [[AND eventname = 'CreateAccessKey'

]]

-- bin/host run --dry-run ARGS... over the dry_run fixture, at CLOCK.
local function dry_run(...)
  return e2e.host({ "run", "--dry-run", "--clock", CLOCK, "--queries", FIXTURES .. "/dry_run",
    ... }, ENV)
end

describe("bin/host run --dry-run", function()
  after_each(function()
    e2e.cleanup()
  end)

  it("prints the hourly samples with dt 2020-02-13-21 at the clock 2020-02-13T22:06:20Z", function()
    local result = e2e.host({ "run", "--dry-run", "--clock", CLOCK, "--tags", "hourly" }, ENV)
    assert.are.equal(0, result.status)
    assert.are.equal("", result.stderr)
    local comments, partitions = {}, {}
    for line in result.stdout:gmatch("[^\n]+") do
      if line:sub(1, 3) == "-- " then
        comments[#comments + 1] = line
      end
    end
    for value in result.stdout:gmatch("dt = '([^']*)'") do
      partitions[#partitions + 1] = value
    end
    assert.are.same({
      "-- athena_query_audit [hourly]",
      "-- utcdatehour_minus1hour = 2020-02-13-21",
      "-- access_denied_bursts [hourly]",
      "-- utcdatehour_minus1hour = 2020-02-13-21",
      "-- console_login_failures [hourly]",
      "-- utcdatehour_minus1hour = 2020-02-13-21",
      "-- root_account_activity [hourly]",
      "-- utcdatehour_minus1hour = 2020-02-13-21",
    }, comments)
    assert.are.same({ "2020-02-13-21", "2020-02-13-21", "2020-02-13-21", "2020-02-13-21" },
      partitions)
    assert.is_nil(result.stdout:find("{", 1, true), "no placeholder left unrendered")
  end)

  it("prints each selected query's name, tags, parameters and SQL", function()
    assert.are.same({ status = 0, stderr = "", stdout = LOGINS .. BRACES },
      dry_run("--tags", "hourly"))
  end)

  it("prints every query when no tag is given", function()
    assert.are.same({ status = 0, stderr = "", stdout = LOGINS .. BRACES .. DAILY_KEYS },
      dry_run())
  end)

  it("selects the queries that carry all of the tags", function()
    assert.are.same({ status = 0, stderr = "", stdout = LOGINS },
      dry_run("--tags", "hourly,sample"))
    assert.are.same({ status = 0, stderr = "", stdout = LOGINS },
      dry_run("--tags", "sample", "--tags", "hourly"))
  end)

  it("selects queries by name with --query, as often as given", function()
    assert.are.same({ status = 0, stderr = "", stdout = BRACES .. DAILY_KEYS },
      dry_run("--query", "daily_keys", "--query", "braces"))
    assert.are.same({ status = 0, stderr = "", stdout = DAILY_KEYS },
      dry_run("--query=daily_keys", "--query=braces", "--tags=daily"))
  end)

  it("prints one JSON object per query with --json", function()
    local result = dry_run("--json", "--tags", "hourly")
    assert.are.equal(0, result.status)
    assert.are.equal("", result.stderr)
    local objects = e2e.json_lines(result.stdout)
    assert.are.same({
      { name = "logins", tags = { "hourly", "sample" },
        parameters = { utcdatehour_minus1hour = "2020-02-13-21", since = "2020-02-13T21:06:20Z" },
        query = "SELECT useridentity.arn, count(*) AS logins\nFROM cloudtrail\n"
          .. "WHERE dt = '2020-02-13-21' AND eventtime >= '2020-02-13T21:06:20Z'\n"
          .. "  AND eventname = 'ConsoleLogin'\nGROUP BY 1\n" },
      { name = "braces", tags = { "hourly" },
        parameters = { utctimestamp = "1581631580", dt = "2020-02-13-22" },
        query = "SELECT '{\"at\": 1581631580}' AS doc FROM cloudtrail WHERE dt = "
          .. "'2020-02-13-22'" },
    }, objects)
    assert.are.equal('{"name":"braces","tags":["hourly"],"parameters":{"utctimestamp":'
      .. '"1581631580","dt":"2020-02-13-22"},"query":"SELECT \'{\\"at\\": 1581631580}\' AS doc '
      .. "FROM cloudtrail WHERE dt = '2020-02-13-22'\"}",
      result.stdout:match("\n([^\n]+)\n$"))
  end)

  it("renders the same SQL for the same clock, whatever the time zone", function()
    local first = dry_run("--json")
    local second = e2e.host({ "run", "--dry-run", "--clock", CLOCK, "--queries",
      FIXTURES .. "/dry_run", "--json" }, { TZ = "Pacific/Kiritimati" })
    assert.are.same(first, second)
  end)

  it("uses the wall clock when no --clock is given", function()
    local result = e2e.host({ "run", "--dry-run", "--json", "--queries", FIXTURES .. "/dry_run",
      "--query", "logins" }, ENV)
    assert.are.equal(0, result.status)
    local since = cjson.decode(result.stdout).parameters.since
    assert.truthy(since:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), since)
  end)

  it("warns on stderr when no query carries the tags, and exits 0", function()
    assert.are.same({ status = 0, stdout = "",
      stderr = "streamquery: warning: no query carries all of the tags [weekly]\n" },
      dry_run("--tags", "weekly"))
  end)

  it("says which --query names the tags left out when nothing is selected", function()
    assert.are.same({ status = 0, stdout = "",
      stderr = "streamquery: warning: no query carries all of the tags [weekly] among the "
        .. "queries named by --query (logins)\n" },
      dry_run("--tags", "weekly", "--query", "logins"))
  end)

  it("refuses the options of real runs, and --json without --dry-run", function()
    local with_sink = dry_run("--sink", "stdout")
    assert.are.equal(2, with_sink.status)
    assert.truthy(with_sink.stderr:find("--sink is for real runs, not --dry-run", 1, true))
    local json = e2e.host({ "run", "--json", "--clock", CLOCK })
    assert.are.equal(2, json.status)
    assert.truthy(json.stderr:find("--json is for --dry-run", 1, true), json.stderr)
  end)

  it("exits 1 when a calculator fails, after printing the queries that render", function()
    local file = FIXTURES .. "/bad_calculator/fails.lua"
    assert.are.same({ status = 1, stdout = "-- works [hourly]\n-- year = 2020\nSELECT '2020'\n\n",
      stderr = "streamquery: error: " .. file .. ":2: query fails_at_run_time: parameter window: "
        .. file .. ":7: attempt to concatenate a nil value\n"
        .. "streamquery: error: " .. file .. ":12: query loops_at_run_time: parameter window: "
        .. file .. ": instruction limit reached (an endless loop?)\n" },
      e2e.host({ "run", "--dry-run", "--clock", CLOCK, "--queries", FIXTURES .. "/bad_calculator" },
        ENV))
  end)

  it("exits 2 without running anything when a query file is invalid", function()
    local file = FIXTURES .. "/sandbox_io/reads_a_file.lua"
    assert.are.same({ status = 2, stdout = "", stderr = "streamquery: error: " .. file
      .. ":3: io is not available in query files: they run in a sandbox without os, io, require, "
      .. "load, dofile or debug\n"
      .. "streamquery: error: nothing was run: fix the problems above (bin/host validate lists "
      .. "them all)\n" },
      e2e.host({ "run", "--dry-run", "--queries", FIXTURES .. "/sandbox_io" }, ENV))
  end)

  it("prints the warnings of the query files on stderr and still runs", function()
    local file = FIXTURES .. "/warnings_only/old_spelling.lua"
    assert.are.same({ status = 0,
      stdout = "-- old_spelling [weekly]\n-- utcdatehour_minus1hour = 2020-02-13-21\n"
        .. "SELECT 1 FROM cloudtrail WHERE dt = '2020-02-13-21'\n\n",
      stderr = "streamquery: warning: " .. file .. ':2: params[1]: "datehour_minus1hour" is an '
        .. 'old spelling; write "utcdatehour_minus1hour"\n'
        .. "streamquery: warning: " .. file .. ":2: placeholder {datehour_minus1hour} is an old "
        .. "spelling; write {utcdatehour_minus1hour}\n" },
      e2e.host({ "run", "--dry-run", "--clock", CLOCK, "--queries", FIXTURES .. "/warnings_only" },
        ENV))
  end)

  it("rejects an unknown query name, a bad clock and an empty tag with exit status 2", function()
    local usage = "usage: bin/host run "
    for _, case in ipairs({
      { { "--query", "nope" }, '--query: no query is named "nope"' },
      { { "--clock", "2020-02-13T22:06:20" }, '--clock: invalid clock "2020-02-13T22:06:20": '
        .. "expected YYYY-MM-DDTHH:MM:SSZ (for example 2020-02-13T22:06:20Z)" },
      { { "--tags", "hourly," }, '--tags: empty tag in "hourly,"' },
    }) do
      local argv = { "run", "--dry-run", "--queries", FIXTURES .. "/dry_run" }
      table.move(case[1], 1, #case[1], #argv + 1, argv)
      local result = e2e.host(argv, ENV)
      assert.are.equal(2, result.status)
      assert.are.equal("", result.stdout)
      assert.are.equal("streamquery run: " .. case[2] .. "\n", result.stderr:match("^[^\n]*\n"))
      assert.truthy(result.stderr:find("\n" .. usage, 1, true))
    end
  end)

  it("prints its help and exits 0", function()
    local result = e2e.host({ "run", "--help" }, ENV)
    assert.are.equal(0, result.status)
    assert.are.equal("", result.stderr)
    assert.truthy(result.stdout:find("\n  %-%-dry%-run +render the selected queries and print "
      .. "them; run nothing\n"))
    assert.truthy(result.stdout:find("\n  %-%-query NAME +select a query by name %(repeatable%)\n"))
    for line in result.stdout:gmatch("[^\n]*") do
      assert.is_true(#line < 80, line)
    end
  end)
end)
