-- Query definitions (sq.queries): the DSL, its checks, the sandbox, the loader.
local queries = require("sq.queries")

local FIXTURES = os.getenv("STREAMQUERY_ROOT") .. "/spec/fixtures/queries"

-- Loads files given as label -> text (in label order).
local function load(files)
  local labels = {}
  for label in pairs(files) do
    labels[#labels + 1] = label
  end
  table.sort(labels)
  local sources = {}
  for i, label in ipairs(labels) do
    sources[i] = { label = label, text = files[label] }
  end
  return queries.load_sources(sources)
end

-- The problems of loading one file, as formatted lines.
local function problems_of(text)
  local _, problems = load({ ["q.lua"] = text })
  local lines = {}
  for i, p in ipairs(problems) do
    lines[i] = queries.format_problem(p)
  end
  return lines
end

-- A valid definition with fields replaced; body is Lua table fields.
local function definition(body)
  return "query {\n" .. (body or "") .. [[
  name = "q", description = "d", tags = { "hourly" },
  query = "SELECT 1",
}]]
end

describe("sq.queries", function()
  describe("a definition", function()
    it("loads with its fields normalized, file and line of its query call", function()
      local set, problems = load({ ["scheduled_queries/logins.lua"] = [[
-- failed logins
query {
  name = "console_login_failures",
  description = "Users with 5 or more failed console logins",
  tags = { "hourly", "auth" },
  params = { "utcdatehour_minus1hour", dt = "utcdatehour" },
  database = "streamalert",
  workgroup = "security",
  output_location = "s3://results/streamquery/",
  timeout_secs = 600,
  max_rows = 1000.0,
  query = "SELECT 1 WHERE dt = '{dt}' OR dt = '{utcdatehour_minus1hour}'",
}
]] })
      assert.are.same({}, problems)
      assert.are.equal(1, #set.list)
      assert.are.equal(set.list[1], set.by_name.console_login_failures)
      assert.are.same({
        name = "console_login_failures",
        description = "Users with 5 or more failed console logins",
        tags = { "hourly", "auth" },
        params = {
          { name = "utcdatehour_minus1hour", builtin = true, source = "utcdatehour_minus1hour" },
          { name = "dt", builtin = true, source = "utcdatehour" },
        },
        database = "streamalert",
        workgroup = "security",
        output_location = "s3://results/streamquery/",
        timeout_secs = 600,
        max_rows = 1000,
        query = "SELECT 1 WHERE dt = '{dt}' OR dt = '{utcdatehour_minus1hour}'",
        file = "scheduled_queries/logins.lua",
        line = 2,
      }, set.list[1])
      assert.are.equal("integer", math.type(set.list[1].max_rows))
      assert.are.equal(1, set.files)
    end)

    it("keeps custom parameters as functions of the clock, after the listed built-ins", function()
      local set = load({ ["q.lua"] = [[
query {
  name = "q", description = "d", tags = { "hourly" },
  params = { zeta = function() return 1 end, "utcdate", alpha = function() return 2 end },
  query = "SELECT {zeta}, {alpha}, '{utcdate}'",
}]] })
      local names = {}
      for i, p in ipairs(set.list[1].params) do
        names[i] = p.name .. (p.fn and "()" or "")
      end
      assert.are.same({ "utcdate", "alpha()", "zeta()" }, names)
    end)

    it("orders queries by file path, then as each file defines them", function()
      local set = load({
        ["b.lua"] = definition():gsub('"q"', '"b1"') .. "\n" .. definition():gsub('"q"', '"b2"'),
        ["a/z.lua"] = definition():gsub('"q"', '"az"'),
      })
      local names = {}
      for i, q in ipairs(set.list) do
        names[i] = q.name .. "@" .. q.file .. ":" .. q.line
      end
      assert.are.same({ "az@a/z.lua:1", "b1@b.lua:1", "b2@b.lua:5" }, names)
    end)

    it("reports every missing field", function()
      assert.are.same({
        "q.lua:1: missing field name",
        "q.lua:1: missing field description",
        "q.lua:1: missing field query",
        "q.lua:1: missing field tags",
      }, problems_of("query {}"))
    end)

    it("rejects an unknown field and suggests the one meant", function()
      assert.are.same({ "q.lua:1: unknown field tag (did you mean tags?)" },
        problems_of(definition('  tag = { "daily" },\n')))
      assert.are.same({ "q.lua:1: unknown field frequency" },
        problems_of(definition('  frequency = "hourly",\n')))
    end)

    it("checks the name: characters, length, reservation", function()
      assert.are.same({ 'q.lua:1: name must be lower-case letters, digits and _, got "Bad-Name"' },
        problems_of(definition('  name = "Bad-Name",\n'):gsub('\n  name = "q",', "")))
      assert.are.same({ "q.lua:1: name is 129 characters long; at most 128 are allowed" },
        problems_of(definition('  name = "' .. string.rep("a", 129) .. '",\n')
          :gsub('\n  name = "q",', "")))
      assert.are.same({ "q.lua:1: name streamquery_configuration is reserved (it holds the "
        .. "execution's clock and tags)" }, problems_of(definition(
          '  name = "streamquery_configuration",\n'):gsub('\n  name = "q",', "")))
    end)

    it("rejects duplicate names, naming where the first one is", function()
      local set, problems = load({
        ["a.lua"] = definition(),
        ["b.lua"] = "\n\n" .. definition(),
      })
      assert.is_nil(set)
      assert.are.same({ { level = "error", file = "b.lua", line = 3,
        message = "duplicate query name q: first defined at a.lua:1" } }, problems)
    end)

    it("rejects empty tags and tags that are not words", function()
      assert.are.same({ "q.lua:1: tags must not be empty: name the pack (or packs) that runs "
        .. "this query" }, problems_of(definition("  tags = {},\n"):gsub(
          '\n  name = "q", description = "d", tags = { "hourly" },', '\n  name = "q", '
          .. 'description = "d",')))
      assert.are.same({ 'q.lua:1: tag 2 must be a word of letters, digits, _ and -, got "a b"' },
        problems_of('query { name = "q", description = "d", tags = { "x", "a b" }, '
          .. 'query = "SELECT 1" }'))
      assert.are.same({ 'q.lua:1: tags must be a list of strings, such as { "hourly" }, got '
        .. "string" }, problems_of('query { name = "q", description = "d", tags = "hourly", '
          .. 'query = "SELECT 1" }'))
    end)

    it("rejects a placeholder with no parameter, listing the parameters", function()
      assert.are.same({ "q.lua:1: placeholder {since} has no parameter (params: utcdatehour)" },
        problems_of([[query { name = "q", description = "d", tags = { "hourly" },
          params = { "utcdatehour" }, query = "SELECT '{utcdatehour}', '{since}'" }]]))
      assert.are.same({ "q.lua:1: placeholder {utcdatehour} has no parameter (params: none)" },
        problems_of([[query { name = "q", description = "d", tags = { "hourly" },
          query = "SELECT '{utcdatehour}'" }]]))
    end)

    it("suggests the parameter meant by a misspelt placeholder", function()
      assert.are.same({ "q.lua:1: placeholder {utcdatehour_minus1hours} has no parameter "
        .. "(params: utcdatehour_minus1hour) (did you mean utcdatehour_minus1hour?)",
        "q.lua:1: warning: parameter utcdatehour_minus1hour is not used in the query" },
        problems_of([[query { name = "q", description = "d", tags = { "hourly" },
          params = { "utcdatehour_minus1hour" }, query = "SELECT '{utcdatehour_minus1hours}'" }]]))
    end)

    it("rejects an unknown built-in and explains custom parameters", function()
      assert.are.same({ 'q.lua:1: params[1]: unknown built-in parameter "utcdatehour_minus1week"; '
        .. "a custom parameter is written name = function(clock) ... end" },
        problems_of([[query { name = "q", description = "d", tags = { "hourly" },
          params = { "utcdatehour_minus1week" }, query = "SELECT '{utcdatehour_minus1week}'" }]]))
      assert.are.same({ 'q.lua:1: params.dt: unknown built-in parameter "utcdatehours" (did you '
        .. "mean utcdatehour?); a custom parameter is written name = function(clock) ... end" },
        problems_of([[query { name = "q", description = "d", tags = { "hourly" },
          params = { dt = "utcdatehours" }, query = "SELECT '{dt}'" }]]))
    end)

    it("rejects a custom parameter that takes a built-in's name, or a bad value", function()
      assert.are.same({ "q.lua:1: parameter utcdate is the name of a built-in; give the custom "
        .. "parameter another name" }, problems_of([[query { name = "q", description = "d",
          tags = { "x" }, params = { utcdate = function() return 1 end }, query = "{utcdate}" }]]))
      assert.are.same({ "q.lua:1: params.n must be a built-in name or a function(clock), got "
        .. "number" }, problems_of([[query { name = "q", description = "d", tags = { "x" },
          params = { n = 5 }, query = "{n}" }]]))
      assert.are.same({ "q.lua:1: parameter utcdate is listed twice" }, problems_of([[query {
          name = "q", description = "d", tags = { "x" }, params = { "utcdate", "utcdate" },
          query = "{utcdate}" }]]))
    end)

    it("rejects a malformed template, naming the place in the query", function()
      assert.are.same({ "q.lua:1: line 2, column 9 of the query: '{' is never closed; write {{ "
        .. "for a literal brace" }, problems_of([[query { name = "q", description = "d",
          tags = { "x" }, query = "SELECT 1\nWHERE x {" }]]))
    end)

    it("checks the optional settings", function()
      assert.are.same({
        "q.lua:1: database must be a non-empty string, got string",
        "q.lua:1: workgroup must be a non-empty string, got number",
        'q.lua:1: output_location must be an s3:// URL, got "results/"',
        "q.lua:1: timeout_secs must be a positive integer, got 0",
        "q.lua:1: max_rows must be a positive integer, got 2.5",
      }, problems_of(definition('  database = "", workgroup = 7, output_location = "results/",\n'
        .. "  timeout_secs = 0, max_rows = 2.5,\n")))
    end)

    it("warns about datehour aliases and unused parameters, and still loads", function()
      local set, problems = load({ ["q.lua"] = [[query {
  name = "q", description = "d", tags = { "hourly" },
  params = { "datehour_minus1hour", "utcisotime" },
  query = "SELECT '{datehour_minus1hour}'",
}]] })
      assert.are.same({
        'q.lua:1: warning: params[1]: "datehour_minus1hour" is an old spelling; write '
          .. '"utcdatehour_minus1hour"',
        "q.lua:1: warning: placeholder {datehour_minus1hour} is an old spelling; write "
          .. "{utcdatehour_minus1hour}",
        "q.lua:1: warning: parameter utcisotime is not used in the query",
      }, { queries.format_problem(problems[1]), queries.format_problem(problems[2]),
        queries.format_problem(problems[3]) })
      assert.are.equal(3, #problems)
      assert.are.equal("utcdatehour_minus1hour", set.list[1].params[1].name)
    end)

    it("warns about a file that defines no query", function()
      assert.are.same({ "q.lua: warning: defines no query" }, problems_of("local x = 1"))
    end)

    it("reports a syntax error with the file and line", function()
      assert.are.same({ "q.lua:3: unexpected symbol near '='" },
        problems_of("query {\n  name = 'q',\n  = 3 }"))
    end)

    it("reports an error raised while the file loads with its line", function()
      assert.are.same({ "q.lua:2: no tags today" },
        problems_of("local x = 1\nerror('no tags today')"))
      assert.are.same({ "q.lua: without a line" }, problems_of("error('without a line', 0)"))
    end)

    it("rejects precompiled chunks", function()
      assert.are.same({ "q.lua: is a compiled chunk; query files must be Lua source text" },
        problems_of(string.dump(function() end)))
    end)

    it("does not accept query { ... } after the file has loaded", function()
      local set = load({ ["q.lua"] = [[
local later
query {
  name = "q", description = "d", tags = { "x" },
  params = { n = function() later { name = "sneaky" } return 1 end },
  query = "{n}",
}
later = query]] })
      local ok, err = pcall(set.list[1].params[1].fn, nil)
      assert.is_false(ok)
      assert.are.equal("q.lua:4: query { ... } may be called only while the file loads", err)
    end)
  end)

  describe("the sandbox", function()
    it("withholds io, naming the file and line that used it", function()
      local set, problems = queries.load_dir(FIXTURES .. "/sandbox_io",
        { label = "scheduled_queries" })
      assert.is_nil(set)
      assert.are.same({ { level = "error", file = "scheduled_queries/reads_a_file.lua", line = 3,
        message = "io is not available in query files: they run in a sandbox without os, io, "
          .. "require, load, dofile or debug" } }, problems)
    end)

    it("withholds os, so os.execute runs nothing", function()
      os.remove("/tmp/streamquery-sandbox-escape")
      local set, problems = queries.load_dir(FIXTURES .. "/sandbox_os",
        { label = "scheduled_queries" })
      assert.is_nil(set)
      assert.are.equal("scheduled_queries/runs_a_command.lua:3: os is not available in query "
        .. "files: they run in a sandbox without os, io, require, load, dofile or debug",
        queries.format_problem(problems[1]))
      assert.is_nil(io.open("/tmp/streamquery-sandbox-escape"))
    end)

    it("withholds require, load, dofile, debug and the raw functions", function()
      for _, name in ipairs({ "require", "load", "loadfile", "dofile", "debug", "package",
                              "setmetatable", "getmetatable", "rawset", "collectgarbage",
                              "print", "coroutine", "_G" }) do
        assert.are.same({ "q.lua:1: " .. name .. " is not available in query files: they run "
          .. "in a sandbox without os, io, require, load, dofile or debug" },
          problems_of("local x = " .. name), name)
      end
    end)

    it("calls any other unknown name undefined", function()
      assert.are.same({ "q.lua:1: querry is not defined (query files see only query, string, "
        .. "table, math, utf8 and a few basic functions)" }, problems_of("querry { name = 'q' }"))
    end)

    it("offers string, table, math, utf8 and the basic functions", function()
      local set, problems = load({ ["q.lua"] = [[
local parts = {}
for _, word in ipairs({ "a", "b" }) do
  table.insert(parts, string.upper(word) .. ("x"):rep(2))
end
local ok, err = pcall(error, "caught")
assert(not ok and err == "caught")
query {
  name = "q_" .. string.format("%d", math.max(1, 2)) .. tostring(utf8.len("é")),
  description = table.concat(parts, ",") .. select("#", 1, 2) .. type(nil) .. tonumber("7"),
  tags = { "hourly" },
  query = "SELECT 1",
}]] })
      assert.are.same({}, problems)
      assert.are.equal("q_21", set.list[1].name)
      assert.are.equal("Axx,Bxx2nil7", set.list[1].description)
    end)

    it("keeps math.random out, since a replay must render the same SQL", function()
      assert.are.same({ "q.lua:1: math.random is not available in query files: a replay of an "
        .. "execution must render the same SQL" }, problems_of("local r = math.random(6)"))
    end)

    it("gives read-only libraries, so one file cannot change them for the next", function()
      assert.are.same({ "q.lua:1: string.upper cannot be changed in a query file" },
        problems_of("string.upper = string.lower"))
      local set, problems = load({
        ["a.lua"] = "string = { upper = function() return 'hacked' end }\n" .. definition(),
        ["b.lua"] = [[query { name = string.upper("b"):lower(), description = string.upper("d"),
          tags = { "x" }, query = "SELECT 1" }]],
      })
      assert.are.same({}, problems)
      assert.are.equal("D", set.by_name.b.description)
    end)

    it("iterates over a library without handing out the table behind it", function()
      local set, problems = load({
        ["a.lua"] = [[
local names = {}
for name in pairs(string) do names[#names + 1] = name end
local _, behind = pairs(string)
query { name = "a", description = tostring(#names > 10 and behind == nil), tags = { "x" },
  query = "SELECT 1" }]],
        ["b.lua"] = [[query { name = "b", description = ("b"):upper(), tags = { "x" },
  query = "SELECT 1" }]],
      })
      assert.are.same({}, problems)
      assert.are.equal("true", set.by_name.a.description)
      assert.are.equal("B", set.by_name.b.description)
    end)

    it("stops a file that loops forever", function()
      local set, problems = queries.load_dir(FIXTURES .. "/sandbox_loop",
        { label = "scheduled_queries" })
      assert.is_nil(set)
      assert.are.same({ { level = "error", file = "scheduled_queries/endless.lua",
        message = "instruction limit reached (an endless loop?)" } }, problems)
    end)

    it("does not let pcall swallow the instruction limit", function()
      assert.are.same({ "q.lua: instruction limit reached (an endless loop?)" },
        problems_of("while true do pcall(function() while true do end end) end"))
    end)

    it("refuses to build a huge string in one call", function()
      assert.are.same({ "q.lua:1: string.rep: the result would be 1000000000 bytes; query files "
        .. "are limited to 1048576" }, problems_of("local s = ('x'):rep(1e9)"))
      assert.are.same({ "q.lua:1: string.rep: the result would be 2000000 bytes; query files "
        .. "are limited to 1048576" }, problems_of("local s = string.rep('ab', 1000000)"))
    end)

    it("refuses to move a huge range of a table in one call", function()
      assert.are.same({ "q.lua:1: table.move: 1000000000000 elements is more than a query file "
        .. "may move at once" }, problems_of("table.move({}, 1, 1e12, 1, {})"))
    end)

    it("leaves the string methods and the debug hook as it found them", function()
      local hook = debug.gethook()
      problems_of("while true do end")
      problems_of("local s = ('x'):rep(3)")
      assert.are.equal(string, getmetatable("").__index)
      assert.are.equal(hook, debug.gethook())
      assert.are.equal("xxxxxx", ("x"):rep(6))
    end)

    it("bounds calculators as it bounds loading", function()
      local set = load({ ["q.lua"] = [[query {
  name = "q", description = "d", tags = { "x" },
  params = { n = function() local t = {} while true do t[#t + 1] = 1 end end },
  query = "{n}",
}]] })
      assert.are.same({ false, "q.lua: instruction limit reached (an endless loop?)" },
        { pcall(set.list[1].params[1].fn, nil) })
    end)
  end)

  describe("load_dir", function()
    it("loads every .lua file below a folder, in sorted order, naming files by label", function()
      local set, problems = queries.load_dir(FIXTURES .. "/dry_run",
        { label = "scheduled_queries" })
      assert.are.same({}, problems)
      local names = {}
      for i, q in ipairs(set.list) do
        names[i] = q.file .. ":" .. q.line .. " " .. q.name
      end
      assert.are.same({
        "scheduled_queries/a_logins.lua:2 logins",
        "scheduled_queries/nested/b_braces.lua:2 braces",
        "scheduled_queries/nested/b_braces.lua:10 daily_keys",
      }, names)
      assert.are.equal(2, set.files)
    end)

    it("lists the query files of nested folders in sorted order", function()
      local dir = FIXTURES .. "/dry_run"
      assert.are.same({ "a_logins.lua", "nested/b_braces.lua" }, queries.list_files(dir))
      assert.are.same({ "a_logins.lua", "nested/b_braces.lua" }, queries.list_files(dir .. "//"))
    end)

    it("skips hidden files and folders", function()
      local dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir -p " .. dir .. "/.git " .. dir .. "/sub")
      for _, name in ipairs({ ".#editor-lock.lua", ".git/x.lua", "sub/q.lua", "notes.txt" }) do
        local f = assert(io.open(dir .. "/" .. name, "w"))
        f:write(definition())
        f:close()
      end
      local found = queries.list_files(dir)
      os.execute("rm -rf " .. dir)
      assert.are.same({ "sub/q.lua" }, found)
    end)

    it("reports a folder that does not exist", function()
      local set, problems = queries.load_dir(FIXTURES .. "/no_such_folder", { label = "nowhere" })
      assert.is_nil(set)
      assert.are.same({ "nowhere: cannot open the folder: No such file or directory" },
        { queries.format_problem(problems[1]) })
    end)

    it("warns about a folder without query files", function()
      local dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir -p " .. dir)
      local set, problems = queries.load_dir(dir, { label = "empty" })
      os.execute("rm -rf " .. dir)
      assert.are.same({ list = {}, by_name = {}, files = 0 }, set)
      assert.are.same({ { level = "warning", file = "empty", message = "holds no query files" } },
        problems)
    end)

    it("lists every problem of every file", function()
      local set, problems = queries.load_dir(FIXTURES .. "/broken", { label = "q" })
      assert.is_nil(set)
      local lines = {}
      for i, p in ipairs(problems) do
        lines[i] = queries.format_problem(p)
      end
      assert.are.same({
        "q/b_problems.lua:2: duplicate query name first_query: first defined at q/a_first.lua:2",
        "q/b_problems.lua:9: tags must not be empty: name the pack (or packs) that runs this query",
        "q/b_problems.lua:16: placeholder {since} has no parameter (params: utcdatehour)",
        "q/b_problems.lua:24: unknown field tag (did you mean tags?)",
        "q/b_problems.lua:24: missing field description",
        "q/b_problems.lua:24: missing field tags",
        'q/b_problems.lua:24: name must be lower-case letters, digits and _, got "Bad-Name"',
      }, lines)
    end)

    it("loads the shipped samples without a problem", function()
      local root = os.getenv("STREAMQUERY_ROOT")
      local set, problems = queries.load_dir(root .. "/scheduled_queries",
        { label = "scheduled_queries" })
      assert.are.same({}, problems)
      assert.is_true(#set.list >= 5)
      for _, q in ipairs(set.list) do
        assert.is_true(#q.params > 0, q.name)
      end
    end)
  end)

  describe("the memory bound", function()
    local memory = require("host.memory")
    local BOMB = 'local s = "x" for i = 1, 40 do s = s .. s end'

    it("stops a file that doubles a string past it, naming the file", function()
      local set, problems = load({ ["scheduled_queries/bomb.lua"] = BOMB })
      assert.is_nil(set)
      assert.are.same({ { level = "error", file = "scheduled_queries/bomb.lua",
        message = "memory limit reached (256 MiB)" } }, problems)
      assert.is_nil(memory.used())
    end)

    it("does not let the file's own pcall catch it and go on", function()
      assert.are.same({ "q.lua: memory limit reached (256 MiB)" }, problems_of(
        "local ok = pcall(function() " .. BOMB .. " end)\nassert(not ok)\n" .. definition()))
      assert.are.same({ "q.lua: memory limit reached (256 MiB)" }, problems_of(
        "while true do pcall(function() " .. BOMB .. " end) end"))
      assert.is_nil(memory.used())
    end)

    it("bounds calculators as it bounds loading", function()
      local set = load({ ["q.lua"] = [[query {
  name = "q", description = "d", tags = { "x" },
  params = { n = function() local s = "x" for _ = 1, 40 do s = s .. s end return s end },
  query = "{n}",
}]] })
      assert.are.same({ false, "q.lua: memory limit reached (256 MiB)" },
        { pcall(set.list[1].params[1].fn, nil) })
      assert.is_nil(memory.used())
    end)

    it("leaves the host unbounded after a file that stays within it", function()
      local set = load({ ["q.lua"] = "local s = ('x'):rep(1000)\n" .. definition() })
      assert.are.equal("q", set.list[1].name)
      assert.is_nil(memory.used())
    end)

    it("keeps a limit that its caller set, instead of lifting it", function()
      memory.limit(64 * 1024 * 1024)
      local ok, message = queries.run_bounded("q.lua", function()
        local s = "x"
        for _ = 1, 40 do
          s = s .. s
        end
      end)
      local held = memory.used() ~= nil
      memory.unlimit()
      assert.are.same({ false, "q.lua: memory limit reached (256 MiB)", true },
        { ok, message, held })
    end)
  end)
end)
