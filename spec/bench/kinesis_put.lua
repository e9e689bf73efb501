-- Kinesis delivery throughput, for `make bench`: hands N records of SIZE
-- bytes to the Kinesis sink (sq.sinks) in one batch, which sends them in
-- PutRecords requests of at most 500 records and 5 MiB, concurrently, to
-- the endpoint in AWS_ENDPOINT_URL (the local test server and its
-- kinesalite). Prints one JSON line:
--   {"records": N, "delivered": N, "requests": R, "largest_request": 500,
--    "seconds": wall, "cpu_seconds": this process's CPU time}
--
--   lua5.4 spec/bench/kinesis_put.lua STREAM N SIZE [HTTP_CONCURRENCY]
local cjson = require("cjson")
local hclock = require("host.clock")
local kinesis = require("host.kinesis")
local aws = require("sq.aws")
local sinks = require("sq.sinks")

local stream, count, size, concurrency = arg[1], tonumber(arg[2]), tonumber(arg[3]),
  tonumber(arg[4] or 8)
if not (stream and count and size) then
  io.stderr:write("usage: kinesis_put.lua STREAM N SIZE [HTTP_CONCURRENCY]\n")
  os.exit(2)
end

-- Records shaped like small results: a JSON object padded to SIZE bytes.
local batch = {}
for i = 1, count do
  local head = string.format('{"streamquery_schema_version":"1.0.0","n":%d,"pad":"', i)
  local pad = string.rep("x", math.max(0, size - #head - 2))
  batch[i] = { data = head .. pad .. '"}', key = "bench:" .. i }
end

-- Count the PutRecords requests as the sink plans them.
local requests, largest = 0, 0
local plan_requests = kinesis.requests
function kinesis.requests(...) -- the sink looks it up at each call
  local planned = plan_requests(...)
  requests = requests + #planned
  for _, request in ipairs(planned) do
    largest = math.max(largest, #request.indices)
  end
  return planned
end

local client = aws.new { concurrency = concurrency }
local sink = sinks.kinesis { client = client, stream = stream }
local cpu, started = os.clock(), hclock.monotonic()
local delivered, err = sink:deliver(batch)
local seconds, cpu_seconds = hclock.monotonic() - started, os.clock() - cpu
if not delivered then
  io.stderr:write("kinesis_put.lua: ", tostring(err), "\n")
  os.exit(1)
end
local ok = 0
for i = 1, count do
  ok = ok + (delivered[i] and 1 or 0)
end
io.stdout:write(cjson.encode { records = count, delivered = ok, requests = requests,
  largest_request = largest, seconds = seconds, cpu_seconds = cpu_seconds }, "\n")
os.exit(ok == count and 0 or 1)
