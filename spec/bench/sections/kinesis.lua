-- Kinesis delivery: records per second into kinesalite (behind the local
-- AWS test server) with full 500-record requests, and the PutRecords
-- requests a large result takes.
local cjson = require("cjson")
local lib = require("bench.lib")

local kinesis = { id = "kinesis", title = "Kinesis delivery" }

local RECORD_BYTES = 1024
local MAX_REQUEST_BYTES = 5 * 1024 * 1024
local MAX_REQUEST_RECORDS = 500

-- Throughput: spec/bench/kinesis_put.lua, runs times; returns the runs.
local function throughput(env, n, runs)
  local argv = { "lua5.4", lib.ROOT .. "/spec/bench/kinesis_put.lua", lib.STREAM, tostring(n),
                 tostring(RECORD_BYTES) }
  local list = {}
  for i = 1, runs do
    local m = lib.must(argv, { env = env })
    list[i] = cjson.decode(m.stdout)
    list[i].rss_kib = m.rss_kib
  end
  return list, lib.shown(lib.command(argv))
end

-- The records of a file sink's output: their count, and their bytes with
-- their partition keys (query name, ":" and the part index) as Kinesis
-- counts them.
local function record_totals(path)
  local records, total = 0, 0
  for line in io.lines(path) do
    records = records + 1
    total = total + #line + #"bench_0001:" + #tostring(records)
  end
  return records, total
end

-- The large result through a sink: returns the measures and the command.
local function large_result(server, env, project, n, sink)
  server:scripts({ { match = "-- large", result = { generate = { rows = n, columns = 10,
                                                                  width = 12 } } } })
  local argv = { lib.HOST, "run", "--config", project.config, "--queries", project.queries,
                 "--sink", sink, "--wait", "0" }
  local before = server:stats()
  local m = lib.must(argv, { env = env })
  m.delta = lib.stats_delta(before, server:stats())
  m.records = tonumber(m.stderr:match("(%d+) records sent%s*$"))
  return m, "AWS_ENDPOINT_URL=" .. server.url .. " " .. lib.shown(lib.command(argv))
end

-- The section: returns its figures.
function kinesis.run(opts, servers)
  local section = lib.section("Kinesis delivery", string.format("Records per second: "
    .. "`spec/bench/kinesis_put.lua` hands N records of %s bytes to the Kinesis sink "
    .. "(`sq.sinks`) at once; it sends them in PutRecords requests of 500 records, 8 at a "
    .. "time, to kinesalite behind the local AWS test server, which checks every signature. "
    .. "Kinesalite, a Node.js emulator that stores every record, is the bottleneck here, so "
    .. "the host's own CPU time is given too. Requests for a large result: `bin/host run "
    .. "--sink kinesis` over the generated result of the previous section, into a one-shard "
    .. "stream; the server counts the PutRecords requests, including those that resend "
    .. "records kinesalite refused. The fewest requests the limits allow come from the bytes "
    .. "of the same records written by `--sink file:`.", lib.number(RECORD_BYTES)))
  local server = servers.kinesis()
  server:reset()
  local env = lib.server_env(server)
  local runs = opts.quick and 1 or 3
  for _, n in ipairs(opts.quick and { 2000 } or { 2000, 10000 }) do
    lib.progress("kinesis: %d records of %d bytes, %d runs", n, RECORD_BYTES, runs)
    local list, command = throughput(env, n, runs)
    local per_second, host_rate = {}, {}
    for i, run in ipairs(list) do
      assert(run.delivered == n, "kinesis_put.lua: not every record was delivered")
      per_second[i] = n / run.seconds
      host_rate[i] = n / run.cpu_seconds
    end
    local label = lib.number(n) .. " records"
    section:figure { name = "records per second into kinesalite, " .. label,
      value = lib.median(per_second), format = "%.0f", runs = runs,
      spread = string.format("%d requests, at most %d records each", list[1].requests,
        list[1].largest_request), command = command }
    section:figure { name = "records per second of the host's CPU time, " .. label,
      value = lib.median(host_rate), format = "%.0f", runs = runs, command = command }
  end

  local project = lib.project(lib.work() .. "/kinesis", 1, nil, "large")
  local small = opts.quick and 10000 or 100000
  -- The records of a result into a file tell their bytes, hence the
  -- fewest requests the limits allow.
  local file = lib.work() .. "/kinesis/records.jsonl"
  local f, file_command = large_result(server, env, project, small, "file:" .. file)
  local records, total = record_totals(file)
  assert(f.records == records, "the file sink should hold every record")
  os.remove(file)
  for _, n in ipairs(opts.quick and { small } or { small, 1000000 }) do
    lib.progress("kinesis: a result of %d rows into kinesalite", n)
    local m, command = large_result(server, env, project, n, "kinesis")
    local requests = m.delta.by_target["Kinesis_20131202.PutRecords"] or 0
    local label = lib.number(n) .. " rows"
    section:figure { name = "PutRecords requests for a result of " .. label, value = requests,
      format = "%d", runs = 1, spread = lib.number(m.records) .. " records; resent records "
      .. "included", command = command }
    section:figure { name = "wall time, a result of " .. label .. " into kinesalite",
      value = m.wall, unit = "s", format = "%.2f", runs = 1, command = command }
    local scale = n / small
    local bytes = total * scale
    section:figure { name = "fewest requests the 5 MiB and 500-record limits allow for "
      .. "the same bytes, " .. label, value = math.max(math.ceil(bytes / MAX_REQUEST_BYTES),
        math.ceil(records * scale / MAX_REQUEST_RECORDS)), format = "%d",
      spread = string.format("%.0f MiB%s", bytes / 1048576, n == small and ""
        or string.format(", scaled from the %s-row result's bytes", lib.number(small))),
      command = file_command }
  end
  return section
end

return kinesis
