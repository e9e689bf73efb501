-- Query definitions: the query { ... } DSL, the sandbox query files run in,
-- and the loader of a scheduled_queries/ tree.
--
--   local set, problems = queries.load_dir("scheduled_queries")
--   set.list          every query, ordered by file path then by definition
--   set.by_name[n]    one query by name
--   problems          { level = "error"|"warning", file =, line =, message = }
--
-- set is nil when any problem is an error. A query is a table with name,
-- description, query (the SQL template), tags, params, file, line, and the
-- optional database, workgroup, output_location, timeout_secs, max_rows.
-- Each entry of params is { name =, builtin = true, source = built-in name }
-- or { name =, fn = calculator }; a calculator runs in the sandbox, bounded
-- like the file that defined it, and takes the execution's clock.
local fs = require("host.fs")
local memory = require("host.memory")
local params = require("sq.params")
local suggest = require("sq.suggest")
local template = require("sq.template")

local queries = {}

-- Bounds on what a query file may do while it loads or while one of its
-- calculators runs.
local INSTRUCTION_LIMIT = 10000000
local HOOK_EVERY = 1000 -- instructions between two checks
local MEMORY_LIMIT_KB = 256 * 1024 -- growth past it is refused (host.memory)
local MAX_STRING = 1024 * 1024 -- bytes one string.rep may build
local MAX_MOVE = 1000000 -- elements one table.move may copy

local NAME_MAX = 128
local RESERVED_NAME = "streamquery_configuration"
local ATHENA_QUERY_MAX = 262144 -- bytes, Athena's limit on a query string

-- The fields of query { ... }, in the order messages list them.
local FIELDS = { "name", "description", "query", "params", "tags", "database", "workgroup",
  "output_location", "timeout_secs", "max_rows" }
local REQUIRED = { name = true, description = true, query = true, tags = true }

-- Globals of stock Lua that query files do not get; naming one gets a
-- message about the sandbox rather than "not defined".
local WITHHELD = { "os", "io", "require", "load", "loadfile", "dofile", "debug", "package",
  "collectgarbage", "getmetatable", "setmetatable", "rawget", "rawset", "rawequal", "rawlen",
  "next", "print", "coroutine", "xpcall", "warn", "_G" }

-- Error values raised by the hook; a sandboxed pcall cannot swallow them.
local LIMIT_REACHED = setmetatable({}, { __tostring = function() return "instruction limit" end })
local MEMORY_REACHED = setmetatable({}, { __tostring = function() return "memory limit" end })

-- Library tables for the sandbox ------------------------------------------------------------

-- A read-only view of a table; missing(key) may raise for keys with a story.
local function read_only(name, contents, missing)
  return setmetatable({}, {
    __index = function(_, key)
      local value = contents[key]
      if value == nil and missing then
        missing(key)
      end
      return value
    end,
    __newindex = function(_, key)
      error(string.format("%s.%s cannot be changed in a query file", name, tostring(key)), 2)
    end,
    __pairs = function() -- an iterator that does not hand out the table itself
      local key
      return function()
        local value
        key, value = next(contents, key)
        return key, value
      end
    end,
    __metatable = false,
  })
end

-- A shallow copy of a library, without the names in drop.
local function copy(library, drop)
  local out = {}
  for key, value in pairs(library) do
    if not (drop and drop[key]) then
      out[key] = value
    end
  end
  return out
end

local real_rep, real_move = string.rep, table.move

local safe_string = copy(string, { dump = true })

-- string.rep that refuses to build a string larger than MAX_STRING bytes.
function safe_string.rep(s, n, sep)
  local text = type(s) == "number" and tostring(s) or s
  n = type(n) == "number" and (math.tointeger(n) or math.floor(n)) or n
  if type(text) == "string" and type(n) == "number" and n > 0 then
    local size = #text * n + (type(sep) == "string" and #sep * (n - 1) or 0)
    if size > MAX_STRING then
      error(string.format("string.rep: the result would be %d bytes; query files are limited "
        .. "to %d", size, MAX_STRING), 2)
    end
  end
  return real_rep(s, n, sep)
end

local safe_table = copy(table)

-- table.move that refuses to copy more than MAX_MOVE elements at once.
function safe_table.move(a1, f, e, t, a2)
  if type(f) == "number" and type(e) == "number" and e - f >= MAX_MOVE then
    error(string.format("table.move: %d elements is more than a query file may move at once",
      e - f + 1), 2)
  end
  return real_move(a1, f, e, t, a2)
end

local LIBRARIES = {
  string = read_only("string", safe_string),
  table = read_only("table", safe_table),
  math = read_only("math", copy(math, { random = true, randomseed = true }), function(key)
    if key == "random" or key == "randomseed" then
      error("math." .. key .. " is not available in query files: a replay of an execution "
        .. "must render the same SQL", 3)
    end
  end),
  utf8 = read_only("utf8", copy(utf8)),
}

-- pcall for query files: the limits of the sandbox pass through it, and so
-- does "not enough memory" once growth past the memory bound was refused.
local function sandbox_pcall(f, ...)
  local function pass(ok, ...)
    local err = ...
    if not ok and memory.refused() then
      error(MEMORY_REACHED, 0)
    elseif not ok and (err == LIMIT_REACHED or err == MEMORY_REACHED) then
      error(err, 0)
    end
    return ok, ...
  end
  return pass(pcall(f, ...))
end

-- Bounded execution -------------------------------------------------------------------------
--
-- Memory is bounded twice: the hook checks the collector's count, and the
-- host's allocator refuses any growth past MEMORY_LIMIT_KB (host.memory),
-- so that one call into C cannot build gigabytes between two checks.
--
-- TODO(sandbox): the instruction bound is checked between Lua instructions,
-- so one call into C is not interrupted: a pattern that backtracks for
-- minutes in string.find is caught only afterwards. A time cap needs a
-- timer that the host checks.

-- Removes the hard memory limit when the block holding it is left, however
-- it is left; its __close is a C function, which no hook interrupts.
local MEMORY_LIMIT_HELD = setmetatable({}, { __close = memory.unlimit })

-- Runs fn(...) with the instruction and memory bounds, the safe string
-- methods, and the caller's hook restored afterwards. Returns true and
-- fn's first result, or false and a message that starts with label.
local function run_bounded(label, fn, ...)
  local saved_hook, saved_mask, saved_count = debug.gethook()
  local string_meta = getmetatable("")
  local saved_index = string_meta.__index
  local budget = INSTRUCTION_LIMIT // HOOK_EVERY
  local base_kb = collectgarbage("count")
  local tripped = nil
  debug.sethook(function()
    budget = budget - 1
    if tripped == nil then
      if budget < 0 then
        tripped = LIMIT_REACHED
      elseif collectgarbage("count") - base_kb > MEMORY_LIMIT_KB then
        tripped = MEMORY_REACHED
      end
    end
    if tripped then
      error(tripped, 0) -- raised again at every check until control leaves the file
    end
  end, "", HOOK_EVERY)
  string_meta.__index = safe_string
  local ok, result, refused
  do
    -- The hard limit holds only while fn runs, never over the host's own
    -- work; a limit that a caller set already covers this call.
    local held <close> = memory.used() == nil and MEMORY_LIMIT_HELD or nil
    if held then
      memory.limit(MEMORY_LIMIT_KB * 1024)
    end
    ok, result = pcall(fn, ...)
    refused = memory.refused()
  end
  string_meta.__index = saved_index
  if saved_hook then
    debug.sethook(saved_hook, saved_mask, saved_count)
  else
    debug.sethook()
  end
  if ok then
    return true, result
  end
  if refused or result == MEMORY_REACHED or tripped == MEMORY_REACHED then
    collectgarbage() -- what fn built is garbage now: free it before the host goes on
    return false, string.format("%s: memory limit reached (%d MiB)", label, MEMORY_LIMIT_KB // 1024)
  elseif result == LIMIT_REACHED or tripped == LIMIT_REACHED then
    return false, label .. ": instruction limit reached (an endless loop?)"
  elseif type(result) ~= "string" then
    return false, string.format("%s: error object is a %s value", label, type(result))
  end
  local tail, rest = result:match("^%.%.%.(.-)(:%d+: .*)$") -- Lua cuts long chunk names
  if tail and label:sub(-#tail) == tail then
    result = label .. rest
  end
  return false, result
end

-- Problems ----------------------------------------------------------------------------------

-- Splits "file:12: message" (as Lua reports errors for chunk "@file") into
-- line and message; returns nil, message when it does not start so.
local function split_location(label, message)
  local prefix = label .. ":"
  if message:sub(1, #prefix) == prefix then
    local line, rest = message:match("^(%d+): (.*)$", #prefix + 1)
    if line then
      return math.tointeger(tonumber(line)), rest
    end
    return nil, message:sub(#prefix + 1):gsub("^%s+", "")
  end
  local tail, line, rest = message:match("^%.%.%.(.-):(%d+): (.*)$") -- a long name, cut short
  if tail and label:sub(-#tail) == tail then
    return math.tointeger(tonumber(line)), rest
  end
  return nil, message
end

-- "file:line: message", with "warning: " before the message of a warning.
function queries.format_problem(p)
  local where = p.file or "?"
  if p.line then
    where = where .. ":" .. p.line
  end
  return string.format("%s: %s%s", where, p.level == "warning" and "warning: " or "", p.message)
end

-- " (did you mean X?)" when one of candidates is close to word, else "".
local function suggestion(word, candidates)
  local best = suggest.closest(word, candidates)
  return best and string.format(" (did you mean %s?)", best) or ""
end

-- Validation of one query { ... } -----------------------------------------------------------

local function is_positive_integer(value)
  return math.type(value) == "integer" and value > 0
    or (math.type(value) == "float" and value > 0 and math.tointeger(value) ~= nil)
end

-- Checks the optional per-query settings; calls report(message) per problem.
local function check_settings(def, report)
  for _, key in ipairs({ "database", "workgroup", "output_location" }) do
    local value = def[key]
    if value ~= nil and (type(value) ~= "string" or value == "") then
      report(string.format("%s must be a non-empty string, got %s", key, type(value)))
    end
  end
  local location = def.output_location
  if type(location) == "string" and location ~= "" and not location:match("^s3://.") then
    report(string.format("output_location must be an s3:// URL, got %q", location))
  end
  for _, key in ipairs({ "timeout_secs", "max_rows" }) do
    local value = def[key]
    if value ~= nil and not is_positive_integer(value) then
      report(string.format("%s must be a positive integer, got %s", key, tostring(value)))
    end
  end
end

-- Returns the list of tags of a definition, or nil after reporting.
local function check_tags(tags, report)
  if type(tags) ~= "table" then
    report("tags must be a list of strings, such as { \"hourly\" }, got " .. type(tags))
    return nil
  end
  local list, good = {}, true
  for key, tag in pairs(tags) do
    if math.type(key) ~= "integer" or key < 1 or key > #tags then
      report(string.format("tags must be a list, not a table with key %s", tostring(key)))
      good = false
    elseif type(tag) ~= "string" or not tag:match("^[%w_%-]+$") then
      report(string.format("tag %s must be a word of letters, digits, _ and -, got %s", key,
        type(tag) == "string" and string.format("%q", tag) or type(tag)))
      good = false
    end
  end
  for i = 1, #tags do
    list[i] = tags[i]
  end
  if good and #list == 0 then
    report("tags must not be empty: name the pack (or packs) that runs this query")
    good = false
  end
  return good and list or nil
end

-- Normalizes params into a list of { name, builtin, source } or { name, fn }.
-- Returns the list (nil after an error); warn(message) for aliases.
local function check_params(raw, wrap, report, warn)
  if raw == nil then
    return {}
  end
  if type(raw) ~= "table" then
    report("params must be a table, such as { \"utcdatehour_minus1hour\" }, got " .. type(raw))
    return nil
  end
  local list, seen, good = {}, {}, true
  local function add(entry)
    if seen[entry.name] then
      report(string.format("parameter %s is listed twice", entry.name))
      good = false
    end
    seen[entry.name] = true
    list[#list + 1] = entry
  end
  -- The built-in a name stands for, or nil after reporting.
  local function builtin_name(name, where)
    local canonical, alias = params.canonical(name)
    if not params.is_builtin(canonical) then
      report(string.format("%s: unknown built-in parameter %q%s; a custom parameter is written "
        .. "name = function(clock) ... end", where, name,
        suggestion(name, { "utcdatehour", "utcdatehour_minus1hour", "utcdatehour_minus1day",
          "utcdate", "utctimestamp", "utctimestamp_minus1hour", "utcisotime" })))
      return nil
    end
    if alias then
      warn(string.format("%s: %q is an old spelling; write %q", where, name, canonical))
    end
    return canonical
  end
  local keys = {}
  for key in pairs(raw) do
    if math.type(key) == "integer" and key >= 1 and key <= #raw then -- luacheck: ignore 542
    elseif type(key) == "string" then
      keys[#keys + 1] = key
    else
      report(string.format("params: unexpected key %s; list built-ins by name or write "
        .. "name = function(clock) ... end", tostring(key)))
      good = false
    end
  end
  for i = 1, #raw do
    local name = raw[i]
    if type(name) ~= "string" then
      report(string.format("params[%d] must be the name of a built-in parameter, got %s", i,
        type(name)))
      good = false
    else
      local canonical = builtin_name(name, string.format("params[%d]", i))
      if canonical then
        add({ name = canonical, builtin = true, source = canonical })
      else
        good = false
      end
    end
  end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local value = raw[key]
    if not key:match("^[%a_][%w_]*$") then
      report(string.format("parameter name %q must be letters, digits and _ (it is used as "
        .. "{%s} in the query)", key, key))
      good = false
    elseif type(value) == "function" then
      if params.is_builtin(params.canonical(key)) then
        report(string.format("parameter %s is the name of a built-in; give the custom "
          .. "parameter another name", key))
        good = false
      else
        add({ name = key, fn = wrap(value) })
      end
    elseif type(value) == "string" then
      local canonical = builtin_name(value, "params." .. key)
      if canonical then
        add({ name = key, builtin = true, source = canonical })
      else
        good = false
      end
    else
      report(string.format("params.%s must be a built-in name or a function(clock), got %s",
        key, type(value)))
      good = false
    end
  end
  return good and list or nil
end

-- Checks the SQL template against the parameters: every placeholder has a
-- parameter, every parameter is used.
local function check_template(text, list, report, warn)
  if type(text) ~= "string" or not text:match("%S") then
    report("query must be the SQL text, got " .. (type(text) == "string" and "an empty string"
      or type(text)))
    return false
  end
  if #text > ATHENA_QUERY_MAX then
    report(string.format("query is %d bytes; Athena accepts at most %d", #text, ATHENA_QUERY_MAX))
    return false
  end
  local names, err = template.placeholders(text)
  if names == nil then
    report(err)
    return false
  end
  if list == nil then
    return true -- the params were already reported
  end
  local declared, used, good = {}, {}, true
  for _, entry in ipairs(list) do
    declared[entry.name] = true
  end
  for _, name in ipairs(names) do
    local canonical, alias = params.canonical(name)
    local known = declared[name] and name or declared[canonical] and canonical
    if not known then
      local choices = {}
      for _, entry in ipairs(list) do
        choices[#choices + 1] = entry.name
      end
      report(string.format("placeholder {%s} has no parameter (params: %s)%s", name,
        #choices > 0 and table.concat(choices, ", ") or "none", suggestion(name, choices)))
      good = false
    else
      used[known] = true
      if alias and known == canonical then
        warn(string.format("placeholder {%s} is an old spelling; write {%s}", name, canonical))
      end
    end
  end
  for _, entry in ipairs(list) do
    if not used[entry.name] then
      warn(string.format("parameter %s is not used in the query", entry.name))
    end
  end
  return good
end

-- Validates one definition. Returns the query (nil on error); report and
-- warn take a message.
local function build_query(def, wrap, report, warn)
  if type(def) ~= "table" then
    report("query expects a table: query { name = ..., description = ..., tags = ..., "
      .. "query = ... }")
    return nil
  end
  local good = true
  local function fail(message)
    good = false
    report(message)
  end
  local known = {}
  for _, field in ipairs(FIELDS) do
    known[field] = true
  end
  local unknown = {}
  for key in pairs(def) do
    if not known[key] then
      unknown[#unknown + 1] = tostring(key)
    end
  end
  table.sort(unknown)
  for _, key in ipairs(unknown) do
    fail(string.format("unknown field %s%s", key, suggestion(key, FIELDS)))
  end
  for _, field in ipairs(FIELDS) do
    if REQUIRED[field] and def[field] == nil then
      fail("missing field " .. field)
    end
  end
  local name = def.name
  if name ~= nil then
    if type(name) ~= "string" or not name:match("^[a-z0-9_]+$") then
      fail(string.format("name must be lower-case letters, digits and _, got %s",
        type(name) == "string" and string.format("%q", name) or type(name)))
    elseif #name > NAME_MAX then
      fail(string.format("name is %d characters long; at most %d are allowed", #name, NAME_MAX))
    elseif name == RESERVED_NAME then
      fail(string.format("name %s is reserved (it holds the execution's clock and tags)", name))
    end
  end
  local description = def.description
  if description ~= nil and (type(description) ~= "string" or not description:match("%S")) then
    fail("description must be a non-empty string")
  end
  local tags = def.tags ~= nil and check_tags(def.tags, fail) or nil
  local list = check_params(def.params, wrap, fail, warn)
  if def.query ~= nil and not check_template(def.query, list, fail, warn) then
    good = false
  end
  check_settings(def, fail)
  if not good then
    return nil
  end
  return {
    name = name,
    description = description,
    query = def.query,
    params = list,
    tags = tags,
    database = def.database,
    workgroup = def.workgroup,
    output_location = def.output_location,
    timeout_secs = def.timeout_secs and math.tointeger(def.timeout_secs),
    max_rows = def.max_rows and math.tointeger(def.max_rows),
  }
end

-- Loading files -----------------------------------------------------------------------------

-- A fresh environment for one file; query is its query { ... } function.
local function sandbox_env(query)
  local env = {
    query = query,
    string = LIBRARIES.string, table = LIBRARIES.table, math = LIBRARIES.math,
    utf8 = LIBRARIES.utf8,
    pairs = pairs, ipairs = ipairs, select = select, type = type, tostring = tostring,
    tonumber = tonumber, error = error, assert = assert, pcall = sandbox_pcall,
  }
  local withheld = {}
  for _, name in ipairs(WITHHELD) do
    withheld[name] = true
  end
  return setmetatable(env, {
    __index = function(_, key)
      if withheld[key] then
        error(string.format("%s is not available in query files: they run in a sandbox without "
          .. "os, io, require, load, dofile or debug", tostring(key)), 2)
      end
      error(string.format("%s is not defined (query files see only query, string, table, math, "
        .. "utf8 and a few basic functions)", tostring(key)), 2)
    end,
    __metatable = false,
  })
end

-- Loads one file's text into state: state.list, state.seen (name -> query
-- or location), state.problems.
local function load_source(state, label, text)
  local function problem(level, line, message)
    state.problems[#state.problems + 1] = { level = level, file = label, line = line,
      message = message }
  end
  local loading, count = true, 0
  -- Calculators of this file run bounded and report with the file's name.
  local function wrap(fn)
    return function(c)
      local ok, result = run_bounded(label, fn, c)
      if not ok then
        error(result, 0)
      end
      return result
    end
  end
  local function query(def)
    if not loading then
      error("query { ... } may be called only while the file loads", 2)
    end
    count = count + 1
    local line = debug.getinfo(2, "l").currentline
    local function report(message)
      problem("error", line, message)
    end
    local function warn(message)
      problem("warning", line, message)
    end
    local built = build_query(def, wrap, report, warn)
    local name = type(def) == "table" and type(def.name) == "string" and def.name or nil
    if name then
      local first = state.seen[name]
      if first then
        report(string.format("duplicate query name %s: first defined at %s:%d", name,
          first.file, first.line))
        built = nil
      else
        state.seen[name] = { file = label, line = line }
      end
    end
    if built then
      built.file, built.line = label, line
      state.list[#state.list + 1] = built
    end
  end
  if text:sub(1, 1) == "\27" then
    problem("error", nil, "is a compiled chunk; query files must be Lua source text")
    return
  end
  local chunk, err = load(text, "@" .. label, "t", sandbox_env(query))
  if chunk == nil then
    local line, message = split_location(label, err)
    problem("error", line, message)
    return
  end
  local ok, result = run_bounded(label, chunk)
  loading = false
  if not ok then
    local line, message = split_location(label, result)
    problem("error", line, message)
  elseif count == 0 then
    problem("warning", nil, "defines no query")
  end
end

-- Builds a set from a list of { label =, text = } sources, in that order.
-- Returns set, problems (set nil when a problem is an error).
function queries.load_sources(sources)
  local state = { list = {}, seen = {}, problems = {} }
  for _, source in ipairs(sources) do
    if source.error then
      state.problems[#state.problems + 1] = { level = "error", file = source.label,
        message = source.error }
    else
      load_source(state, source.label, source.text)
    end
  end
  for _, p in ipairs(state.problems) do
    if p.level == "error" then
      return nil, state.problems
    end
  end
  local set = { list = state.list, by_name = {}, files = #sources }
  for _, q in ipairs(state.list) do
    set.by_name[q.name] = q
  end
  return set, state.problems
end

-- The query files under dir (relative paths, sorted), leaving out hidden
-- files and folders; or nil and a message.
function queries.list_files(dir)
  dir = dir:gsub("(.)/+$", "%1")
  local listing, err = fs.files(dir)
  if not listing then
    return nil, err
  end
  local found = {}
  for _, file in ipairs(listing) do
    if file.path:match("%.lua$") then
      found[#found + 1] = file.path
    end
  end
  table.sort(found)
  return found
end

-- Loads every *.lua file under dir (recursively, in sorted order). Files
-- are named in problems as label .. "/" .. relative path; label defaults
-- to dir. Returns set, problems.
function queries.load_dir(dir, options)
  options = options or {}
  local label = (options.label or dir):gsub("(.)/+$", "%1")
  local files, err = queries.list_files(dir)
  if files == nil then
    return nil, { { level = "error", file = label, message = err } }
  end
  local sources = {}
  for _, relative in ipairs(files) do
    local source = { label = label .. "/" .. relative }
    local handle, open_err = io.open(dir .. "/" .. relative, "rb")
    if handle == nil then
      source.error = "cannot read: " .. tostring(open_err)
    else
      source.text = handle:read("a") or ""
      handle:close()
    end
    sources[#sources + 1] = source
  end
  local set, problems = queries.load_sources(sources)
  if #files == 0 then
    problems[#problems + 1] = { level = "warning", file = label, message = "holds no query files" }
  end
  return set, problems
end

-- For the specs and for tools: the sandbox runner and its limits.
queries.run_bounded = run_bounded
queries.INSTRUCTION_LIMIT = INSTRUCTION_LIMIT

return queries
