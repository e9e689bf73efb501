-- bin/host validate, run as a user runs it.
local cjson = require("cjson")
local config = require("sq.config")
local e2e = require("support.e2e")

local ROOT = e2e.ROOT
local FIXTURES = ROOT .. "/spec/fixtures/queries"
local CLOCK = "2020-02-13T22:06:20Z"
local ENV = { ATHENA_DATABASE = "", LOGGER_LEVEL = "" }

local SANDBOX = "is not available in query files: they run in a sandbox without os, io, require, "
  .. "load, dofile or debug"

-- Joins lines, each ending with a new line.
local function lines(list)
  return table.concat(list, "\n") .. "\n"
end

-- The warnings validate gives for packs of the shipped configuration that
-- run none of the queries in a fixture folder.
local function empty_packs(packs)
  local out = {}
  for _, pack in ipairs(packs) do
    out[#out + 1] = string.format("conf/scheduled_queries.json: $.packs.%s: warning: pack %s "
      .. "runs no query: no query has the tag %s", pack, pack, pack)
  end
  return out
end

local function concat(...)
  local out = {}
  for _, list in ipairs({ ... }) do
    table.move(list, 1, #list, #out + 1, out)
  end
  return out
end

describe("bin/host validate", function()
  after_each(function()
    e2e.cleanup()
  end)

  it("passes on the shipped configuration and sample queries", function()
    local result = e2e.host({ "validate" }, ENV)
    assert.are.same({ status = 0, stderr = "",
      stdout = "8 queries in 8 files, 4 packs: 0 errors, 0 warnings\n" }, result)
  end)

  it("names the file and line of a broken query file in a copy of the samples, exit 1", function()
    local dir = e2e.tmpdir()
    os.execute(string.format("cp -r '%s/scheduled_queries' '%s/'", ROOT, dir))
    e2e.write(dir .. "/scheduled_queries/cloudtrail/zz_broken.lua", [[
query {
  name = "console_login_failures",
  description = "a second query with a sample's name",
  tags = { "hourly" },
  query = "SELECT 1",
}

query {
  name = "unfinished",
  description = "a field left without a value",
  tags = { "hourly" },
  query =
}
]])
    local result = e2e.host({ "validate", "--queries", dir .. "/scheduled_queries" }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      dir .. "/scheduled_queries/cloudtrail/zz_broken.lua:13: unexpected symbol near '}'",
      "query definitions not loaded, 4 packs: 1 error, 0 warnings",
    }) }, result)
    e2e.write(dir .. "/scheduled_queries/cloudtrail/zz_broken.lua", [[
query {
  name = "console_login_failures",
  description = "a second query with a sample's name",
  tags = { "hourly" },
  query = "SELECT 1",
}
]])
    result = e2e.host({ "validate", "--queries", dir .. "/scheduled_queries" }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      dir .. "/scheduled_queries/cloudtrail/zz_broken.lua:1: duplicate query name "
        .. "console_login_failures: first defined at " .. dir
        .. "/scheduled_queries/cloudtrail/console_login_failures.lua:3",
      "query definitions not loaded, 4 packs: 1 error, 0 warnings",
    }) }, result)
  end)

  it("lists every problem of every file", function()
    local broken = FIXTURES .. "/broken"
    local result = e2e.host({ "validate", "--queries", broken }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      broken .. "/b_problems.lua:2: duplicate query name first_query: first defined at "
        .. broken .. "/a_first.lua:2",
      broken .. "/b_problems.lua:9: tags must not be empty: name the pack (or packs) that runs "
        .. "this query",
      broken .. "/b_problems.lua:16: placeholder {since} has no parameter (params: utcdatehour)",
      broken .. "/b_problems.lua:24: unknown field tag (did you mean tags?)",
      broken .. "/b_problems.lua:24: missing field description",
      broken .. "/b_problems.lua:24: missing field tags",
      broken .. '/b_problems.lua:24: name must be lower-case letters, digits and _, got '
        .. '"Bad-Name"',
      "query definitions not loaded, 4 packs: 7 errors, 0 warnings",
    }) }, result)
  end)

  it("names the file and line of a query file that opens a file or runs a command", function()
    local result = e2e.host({ "validate", "--queries", FIXTURES .. "/sandbox_io" }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      FIXTURES .. "/sandbox_io/reads_a_file.lua:3: io " .. SANDBOX,
      "query definitions not loaded, 4 packs: 1 error, 0 warnings",
    }) }, result)
    result = e2e.host({ "validate", "--queries", FIXTURES .. "/sandbox_os" }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      FIXTURES .. "/sandbox_os/runs_a_command.lua:3: os " .. SANDBOX,
      "query definitions not loaded, 4 packs: 1 error, 0 warnings",
    }) }, result)
  end)

  it("stops a query file that loops forever and says so", function()
    local result = e2e.host({ "validate", "--queries", FIXTURES .. "/sandbox_loop" }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines({
      FIXTURES .. "/sandbox_loop/endless.lua: instruction limit reached (an endless loop?)",
      "query definitions not loaded, 4 packs: 1 error, 0 warnings",
    }) }, result)
  end)

  it("runs every calculator once and reports those that fail or never return", function()
    local file = FIXTURES .. "/bad_calculator/fails.lua"
    local result = e2e.host({ "validate", "--queries", FIXTURES .. "/bad_calculator",
      "--clock", CLOCK }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines(concat({
      file .. ":2: query fails_at_run_time: parameter window: " .. file
        .. ":7: attempt to concatenate a nil value",
      file .. ":12: query loops_at_run_time: parameter window: " .. file
        .. ": instruction limit reached (an endless loop?)",
    }, empty_packs({ "daily", "two_day", "two_hour" }), {
      "3 queries in 1 file, 4 packs: 2 errors, 3 warnings",
    })) }, result)
  end)

  it("exits 0 when there are only warnings, and lists them", function()
    local file = FIXTURES .. "/warnings_only/old_spelling.lua"
    local result = e2e.host({ "validate", "--queries", FIXTURES .. "/warnings_only" }, ENV)
    assert.are.same({ status = 0, stderr = "", stdout = lines(concat({
      file .. ':2: warning: params[1]: "datehour_minus1hour" is an old spelling; write '
        .. '"utcdatehour_minus1hour"',
      file .. ":2: warning: placeholder {datehour_minus1hour} is an old spelling; write "
        .. "{utcdatehour_minus1hour}",
      file .. ":2: warning: query old_spelling is in no pack: none of its tags (weekly) is a "
        .. "pack name (daily, hourly, two_day, two_hour)",
    }, empty_packs({ "daily", "hourly", "two_day", "two_hour" }), {
      "1 query in 1 file, 4 packs: 0 errors, 7 warnings",
    })) }, result)
  end)

  it("warns about a query with no Athena database and a timeout past the execution's", function()
    local project = e2e.project({ athena = { database = cjson.null } }, {
      ["q.lua"] = e2e.query_source("q", "SELECT 1 FROM t WHERE dt = '{utcdatehour_minus1hour}'",
        "  timeout_secs = 200,\n"),
    })
    local result = e2e.host({ "validate", "--config", project.config, "--queries",
      project.queries }, ENV)
    assert.are.same({ status = 0, stderr = "", stdout = lines({
      project.queries .. "/q.lua:1: warning: query q has no Athena database: set "
        .. "athena.database in the configuration or database in the query",
      project.queries .. "/q.lua:1: warning: timeout_secs 200 is longer than the execution may "
        .. "last (sfn_timeout_secs 120)",
      "1 query in 1 file, 1 pack: 0 errors, 2 warnings",
    }) }, result)
  end)

  it("lists the configuration's problems with their JSON paths", function()
    local project = e2e.project({ packs = { hourly = { description = "hourly",
      schedule_expression = "cron(1 * * * *)" } }, colour = "blue" }, {
      ["q.lua"] = e2e.query_source("q", "SELECT '{utcdatehour_minus1hour}'"),
    })
    local _, problems = config.load(project.config, {})
    local expected = {}
    for i, p in ipairs(problems) do
      expected[i] = config.format_problem(p)
    end
    assert.are.equal(2, #expected)
    expected[3] = "1 query in 1 file, configuration not loaded: 1 error, 1 warning"
    local result = e2e.host({ "validate", "--config", project.config, "--queries",
      project.queries }, ENV)
    assert.are.same({ status = 1, stderr = "", stdout = lines(expected) }, result)
    assert.are.equal(1, expected[1]:find(project.config .. ": $.colour: warning: ", 1, true))
    assert.are.equal(1, expected[2]:find(project.config
      .. ": $.packs.hourly.schedule_expression: ", 1, true))
  end)

  it("prints its help and exits 0", function()
    local result = e2e.host({ "validate", "--help" }, ENV)
    assert.are.equal(0, result.status)
    assert.are.equal("usage: bin/host validate [--config PATH] [--queries DIR] [--clock ISO] "
      .. "[--help]\n", result.stdout:match("^[^\n]*\n"))
    assert.truthy(result.stdout:find("Exit status: 0 no errors (warnings allowed); 1 errors were "
      .. "found; 2 usage error.\n", 1, true))
    assert.are.same(result, e2e.host({ "help", "validate" }, ENV))
  end)

  it("rejects an unknown option with a usage line and exit status 2", function()
    assert.are.same({ status = 2, stdout = "", stderr = lines({
      "streamquery validate: unknown option --queries-dir (did you mean --queries?)",
      "usage: bin/host validate [--config PATH] [--queries DIR] [--clock ISO] [--help]",
      "Run bin/host validate --help for the options.",
    }) }, e2e.host({ "validate", "--queries-dir", "x" }, ENV))
  end)
end)

describe("the command line", function()
  local cli = require("sq.cli")
  local saved_stderr, saved_module

  -- Runs cli.main with a validate command that raises err; returns what
  -- reached stderr and the exit status.
  local function main_raising(err, argv)
    local written = {}
    saved_stderr, saved_module = io.stderr, package.loaded["sq.cmd.validate"]
    package.loaded["sq.cmd.validate"] = { run = function() error(err) end }
    io.stderr = { write = function(_, ...) -- luacheck: ignore 122
      for _, part in ipairs({ ... }) do
        written[#written + 1] = part
      end
    end }
    local ok, status = pcall(cli.main, argv, ROOT)
    -- luacheck: ignore 122
    io.stderr, package.loaded["sq.cmd.validate"] = saved_stderr, saved_module
    assert(ok, status)
    return table.concat(written), status
  end

  it("turns a Lua error into one line on stderr and exit status 2", function()
    local text, status = main_raising("the configuration vanished", { "validate" })
    assert.are.equal(2, status)
    assert.are.equal("streamquery: error: the configuration vanished\n", text)
  end)

  it("gives an error object's message", function()
    local text, status = main_raising({ type = "InvalidEvent", message = "no clock" },
      { "validate" })
    assert.are.equal(2, status)
    assert.are.equal("streamquery: error: no clock\n", text)
  end)

  it("adds the source location and the traceback with --debug", function()
    local text, status = main_raising("boom", { "--debug", "validate" })
    assert.are.equal(2, status)
    local first, second = text:match("^([^\n]*)\n([^\n]*)\n")
    assert.truthy(first:match("^streamquery: error: [^ ]*spec/cli/validate_spec%.lua:%d+: boom$"),
      first)
    assert.are.equal("stack traceback:", second)
  end)
end)
