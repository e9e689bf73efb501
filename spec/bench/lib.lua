-- What the benchmarks share: running bin/host and other programs while
-- measuring them, throwaway projects with generated queries, the local
-- test servers, statistics and the figures each benchmark reports.
--
--   local lib = require("bench.lib")
--   local m = lib.measure({ lib.HOST, "pass", "event.json" }, { env = env, cwd = dir })
--   m.wall, m.user, m.sys, m.cpu (seconds), m.rss_kib (peak), m.status, m.stdout, m.stderr
--   lib.median({ 3, 1, 2 }) --> 2
--   local section = lib.section("Cold start", "what is measured")
--   section:figure{ name = "...", value = 12.3, unit = "ms", runs = 11, target = 15,
--                   better = "lower", command = "..." }
local cjson = require("cjson")
local fileio = require("support.files")
local hclock = require("host.clock")

local lib = {}

lib.ROOT = os.getenv("STREAMQUERY_ROOT") or "."
lib.HOST = lib.ROOT .. "/bin/host"
lib.CLOCK = "2020-02-13T22:06:20Z"
lib.TAG = "bench"
lib.STREAM = "streamquery-bench"

-- Quotes a string for /bin/sh.
function lib.quote(text)
  text = tostring(text)
  if text:match("^[%w%-%./_=:,@]+$") then
    return text
  end
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

-- A list of words as one shell command line.
function lib.command(argv)
  local words = {}
  for i, word in ipairs(argv) do
    words[i] = lib.quote(word)
  end
  return table.concat(words, " ")
end

-- A whole file, or nil when it cannot be read; writing one raises when it cannot.
lib.read, lib.write = fileio.read, fileio.write

-- Runs a shell command; raises when it fails.
function lib.sh(command)
  local ok, _, status = os.execute(command)
  if not ok then
    error(string.format("command failed (status %s): %s", tostring(status), command), 2)
  end
end

-- The standard output of a shell command, without its last newline.
function lib.output(command)
  local pipe = assert(io.popen(command, "r"))
  local text = pipe:read("a")
  pipe:close()
  return (text:gsub("\n$", ""))
end

-- The folder every benchmark works in, made on first use and removed by
-- lib.cleanup().
local work_dir
function lib.work()
  if not work_dir then
    work_dir = lib.output("mktemp -d -t streamquery-bench.XXXXXX")
  end
  return work_dir
end

-- Removes the benchmark's folder.
function lib.cleanup()
  if work_dir then
    os.execute("rm -rf " .. lib.quote(work_dir))
    work_dir = nil
  end
end

-- Progress on stderr, so that stdout holds only the report.
function lib.progress(format, ...)
  io.stderr:write("bench: ", string.format(format, ...), "\n")
  io.stderr:flush()
end

-- Statistics ---------------------------------------------------------------------------------

-- The median of a list of numbers (nil for an empty list).
function lib.median(list)
  local sorted = table.move(list, 1, #list, 1, {})
  table.sort(sorted)
  local n = #sorted
  if n == 0 then
    return nil
  elseif n % 2 == 1 then
    return sorted[(n + 1) // 2]
  end
  return (sorted[n // 2] + sorted[n // 2 + 1]) / 2
end

-- The values of one field of a list of tables.
function lib.pluck(list, field)
  local out = {}
  for i, item in ipairs(list) do
    out[i] = item[field]
  end
  return out
end

-- The smallest and the largest of a list of numbers.
function lib.min(list)
  local best
  for _, v in ipairs(list) do
    best = (best == nil or v < best) and v or best
  end
  return best
end

function lib.max(list)
  local best
  for _, v in ipairs(list) do
    best = (best == nil or v > best) and v or best
  end
  return best
end

-- Running and measuring ---------------------------------------------------------------------

-- The environment words of `env NAME=VALUE ...`, sorted by name.
local function env_words(env)
  local names = {}
  for name in pairs(env or {}) do
    names[#names + 1] = name
  end
  table.sort(names)
  local words = {}
  for _, name in ipairs(names) do
    words[#words + 1] = name .. "=" .. tostring(env[name])
  end
  return words
end

-- Runs argv once under /usr/bin/time. opts: env (added to the inherited
-- environment), cwd, stdin (a file). Returns { status, wall (monotonic
-- seconds around the whole command, sh and time included), user, sys, cpu
-- (seconds of the command and its children), rss_kib (its peak resident
-- memory), stdout, stderr }.
function lib.measure(argv, opts)
  opts = opts or {}
  local dir = lib.work()
  local files = { time = dir .. "/time.out", out = dir .. "/stdout", err = dir .. "/stderr" }
  local words = { "env" }
  for _, word in ipairs(env_words(opts.env)) do
    words[#words + 1] = word
  end
  for _, word in ipairs({ "/usr/bin/time", "-f", "%U %S %M", "-o", files.time }) do
    words[#words + 1] = word
  end
  for _, word in ipairs(argv) do
    words[#words + 1] = word
  end
  local command = lib.command(words) .. " <" .. lib.quote(opts.stdin or "/dev/null")
    .. " >" .. lib.quote(files.out) .. " 2>" .. lib.quote(files.err)
  if opts.cwd then
    command = "cd " .. lib.quote(opts.cwd) .. " && " .. command
  end
  local started = hclock.monotonic()
  local _, _, status = os.execute(command)
  local wall = hclock.monotonic() - started
  local text = lib.read(files.time) or ""
  local user, sys, rss = text:match("([%d.]+) ([%d.]+) (%d+)%s*$")
  if not user then
    error("cannot read /usr/bin/time's figures for: " .. lib.command(argv) .. "\n" .. text, 2)
  end
  return {
    status = status, wall = wall, user = tonumber(user), sys = tonumber(sys),
    cpu = tonumber(user) + tonumber(sys), rss_kib = tonumber(rss),
    stdout = lib.read(files.out) or "", stderr = lib.read(files.err) or "",
  }
end

-- Like measure, and raises (with the end of its stderr) unless the
-- command exited with one of the statuses in ok (default { 0 }).
function lib.must(argv, opts)
  local m = lib.measure(argv, opts)
  local allowed = {}
  for _, s in ipairs(opts and opts.ok or { 0 }) do
    allowed[s] = true
  end
  if not allowed[m.status] then
    error(string.format("%s exited with status %s:\n%s", lib.command(argv), tostring(m.status),
      m.stderr:sub(-3000)), 2)
  end
  return m
end

-- Projects ----------------------------------------------------------------------------------

-- Writes a configuration file (the settings merged over a small default)
-- into dir/conf/scheduled_queries.json; returns its path.
function lib.config(dir, settings)
  local document = {
    enabled = true,
    config = { destination_kinesis_stream = lib.STREAM, sfn_timeout_secs = 3600,
               sfn_wait_secs = 1 },
    packs = { bench = { description = "benchmark queries", schedule_expression = "rate(1 hour)" } },
    lambda_config = { log_level = "info" },
    athena = { database = "streamalert", results_bucket = "streamquery-bench-results" },
  }
  for section, values in pairs(settings or {}) do
    document[section] = document[section] or {}
    for key, value in pairs(values) do
      document[section][key] = value
    end
  end
  lib.sh("mkdir -p " .. lib.quote(dir .. "/conf"))
  local path = dir .. "/conf/scheduled_queries.json"
  lib.write(path, cjson.encode(document))
  return path
end

-- Writes n generated query files, one query each, into folder; the SQL
-- of each starts with "-- <marker>" so that the Athena test server's
-- scripts can match it.
function lib.generate_queries(folder, n, marker)
  lib.sh("mkdir -p " .. lib.quote(folder))
  for i = 1, n do
    local name = string.format("bench_%04d", i)
    lib.write(string.format("%s/%s.lua", folder, name), string.format([[
-- A generated benchmark query.
query {
  name = %q,
  description = "Benchmark query %d: API calls per source address in the last hour",
  tags = { %q },
  params = { "utcdatehour_minus1hour" },
  query = [==[
-- %s
SELECT sourceipaddress, count(*) AS calls
FROM "streamalert"."cloudtrail"
WHERE dt = '{utcdatehour_minus1hour}' AND eventname = 'Call%d'
GROUP BY sourceipaddress
]==],
}
]], name, i, lib.TAG, marker or "bench", i))
  end
end

-- A project in dir: a configuration and n generated queries in
-- dir/queries. Returns { dir, config, queries }.
function lib.project(dir, n, settings, marker)
  local config = lib.config(dir, settings)
  lib.generate_queries(dir .. "/queries", n, marker)
  return { dir = dir, config = config, queries = dir .. "/queries" }
end

-- Writes the first event of an execution (this project's task input,
-- with an execution id) into path; returns path.
function lib.first_event(path, execution)
  lib.write(path, cjson.encode({
    execution_id = "arn:aws:states:us-east-1:123456789012:execution:streamquery-bench:"
      .. (execution or "one"),
    event = { streamquery_configuration = { clock = lib.CLOCK, tags = { lib.TAG } } },
  }))
  return path
end

-- Servers -----------------------------------------------------------------------------------

-- Starts the local AWS test server (spec/servers/aws.js) with args.
function lib.server(args)
  local servers = require("support.servers")
  return servers.start(args, { timeout = 30 })
end

-- The environment that points bin/host at a server, as env NAME=VALUE words.
function lib.server_env(server)
  local env = {}
  for name, value in pairs(server:env()) do
    env[name] = value
  end
  return env
end

-- The CPU time (user + system, seconds, all threads) a process has used
-- so far, from /proc/PID/stat; nil when it cannot be read.
local ticks_per_second
function lib.process_cpu(pid)
  local text = pid and lib.read("/proc/" .. pid .. "/stat")
  if not text then
    return nil
  end
  ticks_per_second = ticks_per_second or tonumber(lib.output("getconf CLK_TCK")) or 100
  -- The fields after the command name (which may hold spaces) in parentheses.
  local rest = text:match("%) (.*)$")
  local fields = {}
  for field in rest:gmatch("%S+") do
    fields[#fields + 1] = field
  end
  return (tonumber(fields[12]) + tonumber(fields[13])) / ticks_per_second -- utime, stime
end

-- The difference of two stats snapshots: requests by target, and the
-- counters named in fields.
function lib.stats_delta(before, after)
  local by_target = {}
  for target, n in pairs(after.by_target or {}) do
    local d = n - ((before.by_target or {})[target] or 0)
    if d ~= 0 then
      by_target[target] = d
    end
  end
  local delta = { by_target = by_target }
  for _, field in ipairs({ "requests", "throttled", "athena_rate_throttled", "connections",
                           "handling_ms", "added_latency_ms" }) do
    if after[field] ~= nil then
      delta[field] = after[field] - (before[field] or 0)
    end
  end
  return delta
end

-- Creates a Kinesis stream through the server and waits until it is active.
lib.create_stream = require("support.e2e").create_stream

-- Figures -----------------------------------------------------------------------------------

local Section = {}
Section.__index = Section

-- A section of the report: a title, what it measures, its figures, the
-- commands they came from and free notes.
function lib.section(title, about)
  return setmetatable({ title = title, about = about, figures = {}, commands = {}, notes = {} },
    Section)
end

-- Adds a command and returns its reference number (the same command is
-- listed once).
function Section:command(text)
  for i, known in ipairs(self.commands) do
    if known == text then
      return i
    end
  end
  self.commands[#self.commands + 1] = text
  return #self.commands
end

-- Adds a figure. f: name, value (a number, or nil when it could not be
-- measured), unit, format (string.format pattern for value, default
-- "%.1f"), runs, spread (a text such as "min 12.1, max 14.3"), target
-- (a number), better ("lower" or "higher"), command (a text), note.
function Section:figure(f)
  if f.command then
    f.ref = self:command(f.command)
  end
  if f.target and f.value then
    if f.better == "higher" then
      f.met = f.value >= f.target
    else
      f.met = f.value <= f.target
    end
  end
  self.figures[#self.figures + 1] = f
  return f
end

-- Adds a paragraph after the figures.
function Section:note(text)
  self.notes[#self.notes + 1] = text
end

-- A number as text: the format given (default "%.1f", or "%d" for an
-- integer), with thousands separators when it comes out as a whole
-- number of four digits or more.
function lib.number(value, format)
  if value == nil then
    return "n/a"
  end
  if not format then
    format = math.type(value) == "integer" and "%d" or "%.1f"
  end
  if format == "%d" then
    value = math.tointeger(value) or math.floor(value + 0.5)
  end
  local text = string.format(format, value)
  local sign, digits = text:match("^(-?)(%d+)$")
  if digits and #digits > 3 then
    text = sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  end
  return text
end

-- The value, target and verdict columns of a figure.
local function value_text(f)
  if f.value == nil then
    return "n/a"
  end
  local text = lib.number(f.value, f.format)
  return f.unit and (text .. " " .. f.unit) or text
end

local function target_text(f)
  if not f.target then
    return ""
  end
  local text = lib.number(f.target, f.format)
  if f.unit then
    text = text .. " " .. f.unit
  end
  return (f.better == "higher" and ">= " or "<= ") .. text
end

local function verdict_text(f)
  if f.met == nil then
    return ""
  end
  return f.met and "met" or "**missed**"
end

-- The section as Markdown.
function Section:markdown()
  local lines = { "### " .. self.title, "" }
  if self.about then
    lines[#lines + 1] = self.about
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "| figure | value | runs | target | | command |"
  lines[#lines + 1] = "| --- | ---: | ---: | --- | --- | --- |"
  for _, f in ipairs(self.figures) do
    local name = f.name
    if f.spread then
      name = name .. " (" .. f.spread .. ")"
    end
    lines[#lines + 1] = string.format("| %s | %s | %s | %s | %s | %s |", name, value_text(f),
      f.runs and tostring(f.runs) or "", target_text(f), verdict_text(f),
      f.ref and ("[" .. f.ref .. "]") or "")
  end
  lines[#lines + 1] = ""
  if #self.commands > 0 then
    lines[#lines + 1] = "Commands (WORK is the benchmark's temporary folder):"
    lines[#lines + 1] = ""
    for i, text in ipairs(self.commands) do
      lines[#lines + 1] = string.format("%d. `%s`", i, text)
    end
    lines[#lines + 1] = ""
  end
  for _, text in ipairs(self.notes) do
    lines[#lines + 1] = text
    lines[#lines + 1] = ""
  end
  return table.concat(lines, "\n")
end

-- Replaces the temporary folder's path in a command by WORK.
function lib.shown(text)
  if work_dir then
    local escaped = work_dir:gsub("%p", "%%%0")
    text = text:gsub(escaped, "WORK")
  end
  local root = lib.ROOT:gsub("%p", "%%%0")
  return (text:gsub(root .. "/", ""))
end

return lib
