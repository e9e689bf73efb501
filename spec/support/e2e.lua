-- End-to-end helpers: a throwaway project (configuration and query files),
-- running the real bin/host, and reading records back from kinesalite.
local cjson = require("cjson")
local fileio = require("support.files")

local e2e = {}

local root = os.getenv("STREAMQUERY_ROOT") or "."
e2e.HOST = root .. "/bin/host"
e2e.ROOT = root

local shell_quote, read, write = fileio.quote, fileio.read, fileio.write
e2e.read = read
e2e.write = write

-- A temporary folder, removed by e2e.cleanup().
local made = {}
function e2e.tmpdir()
  local handle = assert(io.popen("mktemp -d"))
  local dir = handle:read("l")
  handle:close()
  made[#made + 1] = dir
  return dir
end

function e2e.cleanup()
  for _, dir in ipairs(made) do
    os.execute("rm -rf " .. shell_quote(dir))
  end
  made = {}
end

-- A project folder: conf/scheduled_queries.json from `settings` (merged
-- over a small default) and one query file per entry of `files`
-- (name -> Lua source). Returns { dir, config, queries }.
function e2e.project(settings, files)
  local dir = e2e.tmpdir()
  local document = {
    enabled = true,
    config = { destination_kinesis_stream = "streamquery-results", sfn_timeout_secs = 120,
               sfn_wait_secs = 1 },
    packs = { hourly = { description = "hourly", schedule_expression = "rate(1 hour)" } },
    lambda_config = {},
    athena = { database = "streamalert", results_bucket = "results-bucket" },
  }
  for section, values in pairs(settings or {}) do
    if type(values) == "table" and type(document[section]) == "table" then
      for key, value in pairs(values) do
        document[section][key] = value
      end
    else
      document[section] = values
    end
  end
  os.execute("mkdir -p " .. shell_quote(dir .. "/conf") .. " " .. shell_quote(dir .. "/queries"))
  write(dir .. "/conf/scheduled_queries.json", cjson.encode(document))
  for name, source in pairs(files or {}) do
    write(dir .. "/queries/" .. name, source)
  end
  return { dir = dir, config = dir .. "/conf/scheduled_queries.json", queries = dir .. "/queries" }
end

-- A query file's source: query { name =, tags = { "hourly" }, ... } with
-- the SQL given.
function e2e.query_source(name, sql, extra)
  return string.format("query {\n  name = %q,\n  description = %q,\n  tags = { \"hourly\" },\n"
    .. "  params = { \"utcdatehour_minus1hour\" },\n  query = %q,\n%s}\n", name,
    "test query " .. name, sql, extra or "")
end

-- A project with one query file per entry of defs (name -> { sql =,
-- extra = more fields as Lua source }), each tagged hourly.
function e2e.test_project(defs, settings)
  local sources = {}
  for name, def in pairs(defs) do
    sources[name .. ".lua"] = e2e.query_source(name, def.sql, def.extra)
  end
  return e2e.project(settings, sources)
end

-- Runs bin/host with arguments and extra environment variables; returns
-- { status =, stdout =, stderr = }. `input` goes to its standard input.
function e2e.host(argv, env, input)
  return e2e.command({ e2e.HOST }, argv, env, input)
end

-- Runs a command (a list of words, e.g. { "valgrind", "-q", HOST }) with
-- arguments, as e2e.host does.
function e2e.command(program, argv, env, input)
  local dir = e2e.tmpdir()
  local parts = { "env" }
  for name, value in pairs(env or {}) do
    parts[#parts + 1] = shell_quote(name .. "=" .. tostring(value))
  end
  for _, word in ipairs(program) do
    parts[#parts + 1] = shell_quote(word)
  end
  for _, arg in ipairs(argv) do
    parts[#parts + 1] = shell_quote(arg)
  end
  local command = table.concat(parts, " ")
  if input then
    write(dir .. "/stdin", input)
    command = command .. " <" .. shell_quote(dir .. "/stdin")
  else
    command = command .. " </dev/null"
  end
  command = string.format("%s >%s 2>%s", command, shell_quote(dir .. "/stdout"),
    shell_quote(dir .. "/stderr"))
  local _, _, status = os.execute(command)
  return { status = status, stdout = read(dir .. "/stdout"), stderr = read(dir .. "/stderr") }
end

-- Decodes base64 (Kinesis record data).
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local decode_map = {}
for i = 1, #B64 do
  decode_map[B64:byte(i)] = i - 1
end
function e2e.base64_decode(text)
  local out, bits, count = {}, 0, 0
  for i = 1, #text do
    local v = decode_map[text:byte(i)]
    if v then
      bits = bits * 64 + v
      count = count + 1
      if count == 4 then
        out[#out + 1] = string.char(bits >> 16, (bits >> 8) & 255, bits & 255)
        bits, count = 0, 0
      end
    end
  end
  if count == 3 then
    out[#out + 1] = string.char(bits >> 10, (bits >> 2) & 255)
  elseif count == 2 then
    out[#out + 1] = string.char(bits >> 4)
  end
  return table.concat(out)
end

-- Creates a stream in kinesalite (through the signature-checking server)
-- and waits until it is ACTIVE.
function e2e.create_stream(server, name, shards)
  local status, body = server:call("Kinesis_20131202.CreateStream",
    { StreamName = name, ShardCount = shards or 1 })
  assert(status == 200, "CreateStream: " .. cjson.encode(body))
  for _ = 1, 200 do
    local _, description = server:call("Kinesis_20131202.DescribeStream", { StreamName = name })
    if description.StreamDescription and description.StreamDescription.StreamStatus == "ACTIVE" then
      return
    end
    os.execute("sleep 0.05")
  end
  error("stream " .. name .. " did not become ACTIVE")
end

-- Every record in a stream, in shard order then sequence order, as
-- { key = partition key, text = data, record = decoded JSON }.
function e2e.read_stream(server, name)
  local _, shards = server:call("Kinesis_20131202.ListShards", { StreamName = name })
  local out = {}
  for _, shard in ipairs(shards.Shards) do
    local _, iterator = server:call("Kinesis_20131202.GetShardIterator",
      { StreamName = name, ShardId = shard.ShardId, ShardIteratorType = "TRIM_HORIZON" })
    local position = iterator.ShardIterator
    while position and position ~= cjson.null do
      local _, batch = server:call("Kinesis_20131202.GetRecords",
        { ShardIterator = position, Limit = 10000 })
      for _, record in ipairs(batch.Records) do
        local text = e2e.base64_decode(record.Data)
        out[#out + 1] = { key = record.PartitionKey, text = text, record = cjson.decode(text) }
      end
      if #batch.Records == 0 then
        break
      end
      position = batch.NextShardIterator
    end
  end
  return out
end

-- The records of one query, sorted by part index.
function e2e.parts_of(records, name)
  local parts = {}
  for _, r in ipairs(records) do
    if r.record.execution.name == name then
      parts[#parts + 1] = r
    end
  end
  table.sort(parts, function(a, b)
    return a.record.execution.part.index < b.record.execution.part.index
  end)
  return parts
end

-- The lines of a text that parse as JSON objects.
function e2e.json_lines(text)
  local out = {}
  for line in (text or ""):gmatch("[^\n]+") do
    out[#out + 1] = cjson.decode(line)
  end
  return out
end

return e2e
