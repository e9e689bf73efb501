-- Benchmark of the offline engine (figures, never pass/fail):
--   1. loading a generated file of 200,000 CloudTrail records, in records per second;
--   2. the README's main command on the shipped sample, in seconds.
-- Run from the repository root: lua5.4 spec/bench/offline.lua
local root = os.getenv("STREAMQUERY_ROOT") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/bin/?.so;" .. package.cpath

local cjson = require("cjson")
local clock = require("host.clock")
local local_engine = require("sq.engine.local")

local RECORDS = 200000
local MAIN_COMMAND = "bin/host run --engine local --data samples/data --clock 2020-02-13T22:06:20Z"

-- The shipped sample's records, as JSON text, to be repeated.
local function sample_records()
  local records = {}
  local pipe = assert(io.popen("find '" .. root .. "/samples/data/cloudtrail' -type f | sort"))
  for path in pipe:lines() do
    local reader = assert(io.popen("gzip -dcf '" .. path .. "'"))
    for _, record in ipairs(cjson.decode(reader:read("a")).Records) do
      records[#records + 1] = cjson.encode(record)
    end
    reader:close()
  end
  pipe:close()
  return records
end

-- Writes dir/cloudtrail/big.json: {"Records": [...]} with `count` records, each with its own
-- eventID; returns the file's size.
local function generate(dir, count)
  local records = sample_records()
  assert(os.execute("mkdir -p '" .. dir .. "/cloudtrail'"))
  local path = dir .. "/cloudtrail/big.json"
  local file = assert(io.open(path, "wb"))
  file:write('{"Records":[')
  local chunk = {}
  for i = 1, count do
    local text = records[(i - 1) % #records + 1]
    local id = string.format('"eventID":"bench-%08d"', i)
    chunk[#chunk + 1] = text:gsub('"eventID":"[^"]*"', id, 1)
    if #chunk == 1000 or i == count then
      file:write(table.concat(chunk, ","), i < count and "," or "")
      chunk = {}
    end
  end
  file:write("]}\n")
  local size = file:seek("end")
  file:close()
  return size
end

local dir = os.tmpname()
os.remove(dir)
local size = generate(dir, RECORDS)
local engine = local_engine.new { data = dir, clock = 1581631580, log = function() end }
local started, cpu_started = clock.monotonic(), os.clock()
local id = engine:start({ { name = "bench", sql = "SELECT count(*) FROM cloudtrail" } })[1].id
local seconds, cpu = clock.monotonic() - started, os.clock() - cpu_started
local page = assert(engine:results(id, nil, 1))
assert(page.rows[1][1] == tostring(RECORDS), "loaded " .. tostring(page.rows[1][1]))
engine:close()
os.execute("rm -rf '" .. dir .. "'")
-- The process is single-threaded: its CPU time is the one core's time, whatever else the
-- machine is running; the wall time is shown too.
print(string.format("offline engine: loaded %d CloudTrail records (%.0f MB) in %.2f s of CPU: "
  .. "%.0f records/s on one core (target: 50000 or more); %.2f s wall clock, %.0f records/s",
  RECORDS, size / 1e6, cpu, RECORDS / cpu, seconds, RECORDS / seconds))

-- The README's main command, five times; the median.
local times = {}
for i = 1, 5 do
  local t0 = clock.monotonic()
  assert(os.execute("cd '" .. root .. "' && " .. MAIN_COMMAND .. " >/dev/null 2>&1"))
  times[i] = clock.monotonic() - t0
end
table.sort(times)
print(string.format("offline engine: %s: %.3f s (median of 5; target: under 1 s)", MAIN_COMMAND,
  times[3]))
