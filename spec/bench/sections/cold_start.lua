-- Cold start of the Lambda bootstrap: from the exec of bin/host lambda to
-- its first GET .../invocation/next at the Runtime API test server, with
-- the sample packs and generated queries loaded; resident memory then.
local cjson = require("cjson")
local lib = require("bench.lib")

local cold = { id = "cold", title = "Cold start" }

local TARGET_MS = 15
local TARGET_RSS_MIB = 16

-- A query folder: the sample packs plus n generated queries.
local function query_folder(n)
  local dir = string.format("%s/cold/queries_%d", lib.work(), n)
  lib.sh("mkdir -p " .. lib.quote(dir))
  lib.sh("cp -R " .. lib.quote(lib.ROOT .. "/scheduled_queries") .. "/. " .. lib.quote(dir))
  if n > 0 then
    lib.generate_queries(dir .. "/generated", n, "cold")
  end
  return dir
end

-- The bootstrap's environment: a region, and endpoints on loopback.
-- Start-up contacts no AWS service and reads no credentials; these only
-- make sure that nothing could leave the machine.
local ENV = {
  "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=http://127.0.0.1:9",
  "LOGGER_LEVEL=info",
}

-- The same first request made by bash, to show what the measurement
-- itself costs (spawning, connecting).
local BASH_CLIENT = { "bash", "-c", 'IFS=: read -r h p <<<"$AWS_LAMBDA_RUNTIME_API"; '
  .. 'exec 3<>"/dev/tcp/$h/$p"; printf "GET /2018-06-01/runtime/invocation/next HTTP/1.1'
  .. '\\r\\nHost: %s\\r\\n\\r\\n" "$h" >&3; exec cat <&3' }

-- Runs cold_start.js over a command; returns its list of runs and the
-- command line.
local function starts(command, runs, extra_env)
  local argv = { "node", lib.ROOT .. "/spec/bench/cold_start.js", "--runs", tostring(runs) }
  for _, list in ipairs({ ENV, extra_env or {} }) do
    for _, word in ipairs(list) do
      argv[#argv + 1] = "--env"
      argv[#argv + 1] = word
    end
  end
  argv[#argv + 1] = "--"
  table.move(command, 1, #command, #argv + 1, argv)
  local m = lib.must(argv)
  return cjson.decode(m.stdout).runs, lib.shown(lib.command(argv))
end

-- "min X, max Y" of a list of figures.
local function spread(list, format)
  return string.format("min " .. format .. ", max " .. format, lib.min(list), lib.max(list))
end

-- A copy of the project root whose Lua modules are compiled by luac5.4
-- (debug information kept), as a package could ship them; nil when
-- luac5.4 is missing.
local function precompiled_root()
  if lib.output("command -v luac5.4 || true") == "" then
    return nil
  end
  local dir = lib.work() .. "/cold/precompiled"
  lib.sh("mkdir -p " .. lib.quote(dir))
  lib.sh("cp -R " .. lib.quote(lib.ROOT .. "/lua") .. " " .. lib.quote(lib.ROOT .. "/conf") .. " "
    .. lib.quote(dir))
  local modules = lib.output("cd " .. lib.quote(dir) .. " && find lua -name '*.lua' | sort")
  for path in modules:gmatch("[^\n]+") do
    local file = dir .. "/" .. path
    lib.sh("luac5.4 -o " .. lib.quote(file .. ".out") .. " " .. lib.quote(file) .. " && mv "
      .. lib.quote(file .. ".out") .. " " .. lib.quote(file))
  end
  return dir
end

-- Instructions executed by the bootstrap from exec until its first
-- request fails (nothing listens on 127.0.0.1:1), under callgrind: a
-- figure that the machine's load does not move.
local function instructions(bootstrap, extra_env)
  local env = { AWS_LAMBDA_RUNTIME_API = "127.0.0.1:1" }
  for _, word in ipairs(ENV) do
    local name, value = word:match("^([^=]+)=(.*)$")
    env[name] = value
  end
  for _, word in ipairs(extra_env or {}) do
    local name, value = word:match("^([^=]+)=(.*)$")
    env[name] = value
  end
  local argv = { "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null" }
  table.move(bootstrap, 1, #bootstrap, #argv + 1, argv)
  local m = lib.must(argv, { env = env, ok = { 1 } })
  local count = m.stderr:match("Collected : (%d+)")
  local shown = {}
  for _, word in ipairs(extra_env or {}) do
    shown[#shown + 1] = word
  end
  shown[#shown + 1] = "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"
  return tonumber(count), lib.shown(table.concat(shown, " ") .. " " .. lib.command(argv))
end

-- Measures one configuration: time, CPU time and memory at the first
-- GET, with the targets when targets is true.
local function configuration(section, label, bootstrap, runs, extra_env, targets)
  starts(bootstrap, 1, extra_env) -- a warm-up: the files in the page cache
  lib.progress("cold start: %s, %d runs", label, runs)
  local list, command = starts(bootstrap, runs, extra_env)
  local ms, cpu, rss = lib.pluck(list, "ms"), lib.pluck(list, "cpu_ms"), {}
  for i, run in ipairs(list) do
    rss[i] = run.rss_kib / 1024
  end
  section:figure { name = "time to first GET, " .. label, value = lib.median(ms), unit = "ms",
    runs = #ms, spread = spread(ms, "%.1f"), target = targets and TARGET_MS or nil,
    command = command }
  section:figure { name = "CPU time to first GET, " .. label, value = lib.median(cpu),
    unit = "ms", runs = #cpu, spread = spread(cpu, "%.1f"), command = command }
  section:figure { name = "resident memory at first GET, " .. label, value = lib.median(rss),
    unit = "MiB", runs = #rss, target = targets and TARGET_RSS_MIB or nil, command = command }
end

-- The section: returns its figures.
function cold.run(opts)
  local section = lib.section("Cold start", "From the exec of the bootstrap (`bin/host lambda`) "
    .. "to its first `GET /2018-06-01/runtime/invocation/next` at the Runtime API test server "
    .. "(`spec/servers/lambda_runtime.js`), measured by `spec/bench/cold_start.js`, which spawns "
    .. "the bootstrap and notes the time of that request; the bootstrap's resident memory "
    .. "(VmRSS) and CPU time are read from /proc at that moment. The queries are the sample "
    .. "packs (`scheduled_queries/`) plus generated ones, one query a file. The instruction "
    .. "counts come from callgrind and do not depend on the machine's load; the runs with "
    .. "precompiled modules use a copy of `lua/` compiled by `luac5.4`, which is not what "
    .. "`make` builds but what a package could ship.")
  local hundred
  for _, n in ipairs(opts.quick and { 100 } or { 10, 100, 1000 }) do
    local bootstrap = { lib.HOST, "lambda", "--queries", query_folder(n) }
    hundred = n == 100 and bootstrap or hundred
    configuration(section, string.format("samples + %s queries", lib.number(n)), bootstrap,
      (n == 100 and not opts.quick) and 11 or 5, nil, n == 100)
  end
  local count, command = instructions(hundred)
  section:figure { name = "instructions to first GET, samples + 100 queries", value = count,
    format = "%d", runs = 1, command = command }
  local root = precompiled_root()
  if root then
    local env = { "STREAMQUERY_ROOT=" .. root }
    configuration(section, "samples + 100 queries, modules precompiled", hundred,
      opts.quick and 5 or 11, env, false)
    count, command = instructions(hundred, env)
    section:figure { name = "instructions to first GET, samples + 100 queries, modules "
      .. "precompiled", value = count, format = "%d", runs = 1, command = command }
  end
  local list
  list, command = starts(BASH_CLIENT, 5)
  local ms = lib.pluck(list, "ms")
  section:figure { name = "the same first GET made by bash: the measurement's own cost",
    value = lib.median(ms), unit = "ms", runs = #ms, spread = spread(ms, "%.1f"),
    command = command }
  return section
end

return cold
