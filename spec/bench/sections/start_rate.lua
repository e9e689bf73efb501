-- Starting many queries at Athena's default StartQueryExecution rate:
-- one bin/host run over 1,000 queries, passes back to back, against a
-- test server that throttles starts beyond 20 a second.
local lib = require("bench.lib")

local start_rate = { id = "starts", title = "Starting 1,000 queries at 20 per second" }

local RATE = 20

-- The section: returns its figures.
function start_rate.run(opts, servers)
  local n = opts.quick and 200 or 1000
  local section = lib.section(string.format("Starting %s queries at %d per second",
    lib.number(n), RATE), string.format("One `bin/host run --wait 0` over %s queries with "
    .. "the default limits (`start_rate_per_second` %d, `max_concurrent_queries` 20, "
    .. "`http_concurrency` 8): passes follow each other with no wait. Each query succeeds at "
    .. "its first status check with an empty result. The Athena test server throttles "
    .. "`StartQueryExecution` beyond %d a second (`--athena-rate`, a token bucket holding one "
    .. "second of starts) and counts every start it refused; one run, so the figures are not "
    .. "medians.", lib.number(n), RATE, RATE))
  local server = servers.athena()
  server:reset()
  server:control("POST", "/__control/config", { latency_ms = 5, athena_rate = RATE })
  local project = lib.project(lib.work() .. "/starts", n, nil, "starts")
  local argv = { lib.HOST, "run", "--config", project.config, "--queries", project.queries,
                 "--sink", "count", "--wait", "0" }
  lib.progress("starting %d queries at %d per second (about %d s)", n, RATE, n // RATE)
  local before = server:stats()
  local m = lib.measure(argv, { env = lib.server_env(server) })
  local delta = lib.stats_delta(before, server:stats())
  local started = #server:queries()
  local passes_made = 0
  for number in m.stderr:gmatch("pass (%d+):") do
    passes_made = math.max(passes_made, tonumber(number))
  end
  local command = "AWS_ENDPOINT_URL=" .. server.url .. " " .. lib.shown(lib.command(argv))
  local requests = delta.by_target["AmazonAthena.StartQueryExecution"] or 0
  section:figure { name = "queries started", value = started, format = "%d", runs = 1,
    target = n, better = "higher", command = command }
  section:figure { name = "StartQueryExecution requests (retries included)", value = requests,
    format = "%d", runs = 1, command = command }
  section:figure { name = "starts refused by the server's throttling",
    value = delta.athena_rate_throttled, format = "%d", runs = 1, target = 0, command = command }
  section:figure { name = "passes", value = passes_made, format = "%d", runs = 1,
    command = command }
  section:figure { name = "wall time of the run", value = m.wall, unit = "s", runs = 1,
    command = command }
  section:figure { name = "queries started per second over the run", value = started / m.wall,
    runs = 1, command = command }
  section:figure { name = "CPU time (user + system) of the run", value = m.cpu, unit = "s",
    format = "%.2f", runs = 1, command = command }
  if m.status ~= 0 then
    section:note(string.format("The run exited with status %s; the end of its log:\n\n```\n%s\n```",
      tostring(m.status), m.stderr:sub(-1500)))
  end
  return section
end

return start_rate
