-- The benchmarks of `make bench` (spec/bench/run sets the module paths
-- and the environment, then runs this file).
--
--   sh spec/bench/run [--only cold,passes,starts,large,kinesis,offline] [--quick] [--full]
--                     [--update]
--
-- Prints a Markdown report on stdout (progress goes to stderr): every
-- figure with its runs, its target when the issue sets one, and the
-- command it came from. --update also writes the report into
-- BENCHMARKS.md, between its "bench:begin" and "bench:end" marks.
-- --quick runs smaller cases once (a smoke test of the benchmarks, not
-- figures to keep); --full runs the 1,000,000-row result three times.
local hclock = require("host.clock")
local lib = require("bench.lib")

local SECTIONS = {
  require("bench.sections.cold_start"),
  require("bench.sections.passes"),
  require("bench.sections.start_rate"),
  require("bench.sections.large_result"),
  require("bench.sections.kinesis"),
  (require("bench.sections.offline_engine")), -- one value: require returns two
}

local BEGIN_MARK = "<!-- bench:begin -->"
local END_MARK = "<!-- bench:end -->"

-- Says what was wrong with the command line, and exits.
local function usage(message)
  io.stderr:write("spec/bench/run: ", message, "\nusage: sh spec/bench/run [--only ",
    "cold,passes,starts,large,kinesis,offline] [--quick] [--full] [--update]\n")
  os.exit(2)
end

-- The options of the command line.
local function parse(argv)
  local opts = { only = nil }
  local i = 1
  while i <= #argv do
    local word = argv[i]
    if word == "--quick" then
      opts.quick = true
    elseif word == "--full" then
      opts.full = true
    elseif word == "--update" then
      opts.update = true
    elseif word == "--only" and argv[i + 1] then
      opts.only = {}
      for id in argv[i + 1]:gmatch("[^,]+") do
        opts.only[id] = true
      end
      i = i + 1
    else
      usage("unknown argument " .. word)
    end
    i = i + 1
  end
  if opts.only then
    local known = {}
    for _, s in ipairs(SECTIONS) do
      known[s.id] = true
    end
    for id in pairs(opts.only) do
      if not known[id] then
        usage("--only: no section " .. id)
      end
    end
  end
  return opts
end

-- The first line of a file matching a pattern, or nil.
local function grep(path, pattern)
  local file = io.open(path)
  if not file then
    return nil
  end
  for line in file:lines() do
    local found = line:match(pattern)
    if found then
      file:close()
      return found
    end
  end
  file:close()
  return nil
end

-- The load averages over 1, 5 and 15 minutes.
local function load_average()
  return (lib.read("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") or "?"
end

-- The machine, as the report's header says it.
local function machine()
  local cpu = grep("/proc/cpuinfo", "^model name%s*:%s*(.+)$") or "unknown CPU"
  local cores = lib.output("nproc 2>/dev/null")
  local kib = tonumber(grep("/proc/meminfo", "^MemTotal:%s*(%d+)")) or 0
  return string.format("%s, %s cores, %.0f GiB, %s", cpu, cores, kib / 1048576,
    lib.output("uname -srm"))
end

-- Servers shared by the sections, started on first use.
local function server_pool()
  local pool, started = {}, {}
  function pool.athena()
    started.athena = started.athena or lib.server({})
    return started.athena
  end
  function pool.kinesis()
    if not started.kinesis then
      started.kinesis = lib.server({ "--kinesis" })
      lib.create_stream(started.kinesis, lib.STREAM, 1)
    end
    return started.kinesis
  end
  function pool.stop()
    for _, server in pairs(started) do
      server:stop()
    end
  end
  return pool
end

-- The targets summary: every figure that has a target.
local function summary(sections)
  local lines = { "### Targets", "", "| section | figure | value | target | |",
                  "| --- | --- | ---: | --- | --- |" }
  local missed = 0
  for _, section in ipairs(sections) do
    for _, f in ipairs(section.figures) do
      if f.target then
        local value = f.value and lib.number(f.value, f.format) or "n/a"
        local target = (f.better == "higher" and ">= " or "<= ") .. lib.number(f.target, f.format)
        if f.unit then
          value, target = value .. " " .. f.unit, target .. " " .. f.unit
        end
        if not f.met then
          missed = missed + 1
        end
        lines[#lines + 1] = string.format("| %s | %s | %s | %s | %s |", section.title, f.name,
          value, target, f.met and "met" or "**missed**")
      end
    end
  end
  lines[#lines + 1] = ""
  return table.concat(lines, "\n"), missed
end

-- Writes the report between the marks of BENCHMARKS.md.
local function update(report)
  local path = lib.ROOT .. "/BENCHMARKS.md"
  local text = lib.read(path)
  if not text then
    error("BENCHMARKS.md is missing: --update replaces its figures between "
      .. BEGIN_MARK .. " and " .. END_MARK)
  end
  local first = text:find(BEGIN_MARK, 1, true)
  local last = text:find(END_MARK, 1, true)
  if not first or not last or last < first then
    error("BENCHMARKS.md has no " .. BEGIN_MARK .. " ... " .. END_MARK .. " block")
  end
  lib.write(path, text:sub(1, first + #BEGIN_MARK) .. "\n" .. report .. "\n"
    .. text:sub(last))
  lib.progress("figures written into BENCHMARKS.md")
end

-- Runs the sections asked for, stops the servers, prints the report.
local function main(argv)
  local opts = parse(argv)
  if not lib.read(lib.HOST) then
    usage("bin/host is missing: run make first")
  end
  local started = hclock.monotonic()
  local load_before = load_average()
  local pool = server_pool()
  local done = {}
  local ok, err = pcall(function()
    for _, section in ipairs(SECTIONS) do
      if not opts.only or opts.only[section.id] then
        done[#done + 1] = section.run(opts, pool)
      end
    end
  end)
  pool.stop()
  lib.cleanup()
  if not ok then
    io.stderr:write("spec/bench/run: ", tostring(err), "\n")
    os.exit(1)
  end
  local header = {
    string.format("Figures of `make bench%s` on %s UTC.", opts.quick and " (--quick)" or "",
      os.date("!%Y-%m-%d %H:%M")),
    "",
    "- Machine: " .. machine(),
    "- Commit: " .. lib.output("git -C " .. lib.quote(lib.ROOT)
      .. " describe --always --dirty 2>/dev/null"),
    string.format("- Load average (1, 5, 15 min) before: %s; after: %s", load_before,
      load_average()),
    string.format("- The whole benchmark took %.0f s.", hclock.monotonic() - started),
    "",
  }
  local parts = { table.concat(header, "\n") }
  local targets = summary(done)
  parts[#parts + 1] = targets
  for _, section in ipairs(done) do
    parts[#parts + 1] = section:markdown()
  end
  local report = table.concat(parts, "\n")
  io.stdout:write(report)
  if opts.update then
    update(report)
  end
end

main(arg)
