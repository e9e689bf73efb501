-- A pass over running queries: bin/host pass with every query started
-- and still running at the Athena test server, which adds 5 ms to each
-- answer. Counts the HTTP requests of the pass and times it.
local cjson = require("cjson")
local lib = require("bench.lib")

local passes = { id = "passes", title = "A pass over running queries" }

local LATENCY_MS = 5
local TARGET_REQUESTS = 25
local TARGET_SECONDS = 0.3

-- Starts every query of a project (one pass at a high start rate) and
-- returns the path of the next event, in which all of them run.
local function start_all(env, project, n)
  local dir = project.dir
  local first = lib.first_event(dir .. "/event-1.json", "passes-" .. n)
  local m = lib.must({ lib.HOST, "pass", first, "--config", project.config,
                       "--queries", project.queries, "--sink", "count" }, { env = env })
  local response = cjson.decode(m.stdout)
  local running = 0
  for name, entry in pairs(response.step_function_state) do
    if name ~= "streamquery_configuration" and entry.query_execution_id then
      running = running + 1
    end
  end
  if running ~= n then
    error(string.format("passes: %d of %d queries were started", running, n))
  end
  local next_event = dir .. "/event-2.json"
  lib.write(next_event, m.stdout)
  return next_event
end

-- The section: returns its figures.
function passes.run(opts, servers)
  local section = lib.section("A pass over running queries",
    string.format("`bin/host pass` over N queries that were all started by an earlier pass and "
    .. "still run (the Athena test server's script keeps them RUNNING), each answer delayed by "
    .. "%d ms by the server (`--latency-ms`). The pass checks them all with "
    .. "`BatchGetQueryExecution` (50 ids a call) and sends nothing. The time is the whole "
    .. "process, from exec to exit, so it includes loading the configuration and the N query "
    .. "files; requests are counted by the server. The project sets "
    .. "`limits.max_concurrent_queries` to N so that all N can run at once; "
    .. "`http_concurrency` is the default (8).", LATENCY_MS))
  local server = servers.athena()
  server:reset()
  server:control("POST", "/__control/config", { latency_ms = LATENCY_MS })
  server:scripts({ { match = "-- running", running_polls = 1000000000 } })
  local env = lib.server_env(server)
  local runs = opts.quick and 3 or 7
  for _, n in ipairs(opts.quick and { 1000 } or { 10, 100, 1000 }) do
    local project = lib.project(string.format("%s/passes/%d", lib.work(), n), n,
      { limits = { max_concurrent_queries = math.max(20, n), start_rate_per_second = 1000 } },
      "running")
    local event = start_all(env, project, n)
    lib.progress("pass over %d running queries, %d runs", n, runs)
    local argv = { lib.HOST, "pass", event, "--config", project.config, "--queries",
                   project.queries, "--sink", "count" }
    local wall, cpu, requests, batches, rss = {}, {}, {}, {}, {}
    for i = 1, runs do
      local before = server:stats()
      local m = lib.must(argv, { env = env })
      local delta = lib.stats_delta(before, server:stats())
      wall[i], cpu[i], rss[i] = m.wall, m.cpu, m.rss_kib / 1024
      requests[i] = delta.requests
      batches[i] = delta.by_target["AmazonAthena.BatchGetQueryExecution"] or 0
      local response = cjson.decode(m.stdout)
      assert(response.done == 0, "the queries should still run")
    end
    local command = "AWS_ENDPOINT_URL=" .. server.url .. " " .. lib.shown(lib.command(argv))
    local label = string.format("%s running queries", lib.number(n))
    local target = n == 1000
    section:figure { name = "HTTP requests, " .. label, value = lib.median(requests),
      format = "%d", runs = runs, spread = string.format("%d BatchGetQueryExecution",
        lib.median(batches)), target = target and TARGET_REQUESTS or nil, command = command }
    section:figure { name = "wall time, " .. label, value = lib.median(wall), unit = "s",
      format = "%.3f", runs = runs, spread = string.format("min %.3f, max %.3f", lib.min(wall),
        lib.max(wall)), target = target and TARGET_SECONDS or nil, command = command }
    section:figure { name = "CPU time (user + system), " .. label, value = lib.median(cpu),
      unit = "s", format = "%.2f", runs = runs, command = command }
    section:figure { name = "peak resident memory, " .. label, value = lib.median(rss),
      unit = "MiB", runs = runs, command = command }
  end
  return section
end

return passes
