-- Where records go: Kinesis, stdout (one JSON record per line), a file,
-- or a counter (benchmarks). Every sink has deliver(batch), where batch is
-- a list of { data = json, key = partition key }, and returns one flag per
-- record (true when delivered), or nil and a message when it cannot
-- deliver at all.
local cjson = require("cjson")
local kinesis = require("host.kinesis")
local hclock = require("host.clock")

local sinks = {}

local PUT_RECORDS = "Kinesis_20131202.PutRecords"

-- Errors after which retrying cannot help: the pass stops with a message.
local FATAL = {
  ResourceNotFoundException = "not found",
  AccessDeniedException = "access denied",
  KMSAccessDeniedException = "access to its KMS key denied",
  KMSDisabledException = "its KMS key is disabled",
  KMSNotFoundException = "its KMS key was not found",
  ValidationException = "request rejected",
  UnrecognizedClientException = "credentials not recognised",
  InvalidSignatureException = "request signature rejected",
}

local Kinesis = {}
Kinesis.__index = Kinesis

-- opts: client (sq.aws), stream, max_attempts (default 5), base_delay
-- seconds (default 0.1), sleep (default host.clock.sleep).
function sinks.kinesis(opts)
  if type(opts.stream) ~= "string" or opts.stream == "" then
    error("no Kinesis stream configured: set config.destination_kinesis_stream in the "
      .. "configuration or KINESIS_STREAM, or choose another --sink", 2)
  end
  return setmetatable({
    client = opts.client, stream = opts.stream, max_attempts = opts.max_attempts or 5,
    base_delay = opts.base_delay or 0.1, sleep = opts.sleep or hclock.sleep,
  }, Kinesis)
end

-- Sends the records, then resends only those that failed, with backoff.
-- The third result counts the error codes of what was not delivered.
function Kinesis:deliver(batch)
  local datas, keys, pending, delivered, codes = {}, {}, {}, {}, {}
  for i, record in ipairs(batch) do
    datas[i], keys[i], pending[i] = record.data, record.key, i
  end
  for attempt = 1, self.max_attempts do
    local requests = kinesis.requests(self.stream, datas, keys, pending)
    local calls = {}
    for i, request in ipairs(requests) do
      calls[i] = { service = "kinesis", target = PUT_RECORDS, body = request.body }
    end
    local failed = {}
    codes = {}
    for i, answer in ipairs(self.client:batch(calls)) do
      local indices = requests[i].indices
      local err = answer.error
      if err and FATAL[err.code] then
        return nil, string.format("Kinesis stream %q: %s (%s: %s)", self.stream,
          FATAL[err.code], err.code, tostring(err.message))
      elseif err then
        table.move(indices, 1, #indices, #failed + 1, failed)
        codes[err.code] = (codes[err.code] or 0) + #indices
      else
        for r, result in ipairs(answer.response.Records or {}) do
          if result.ErrorCode and result.ErrorCode ~= cjson.null then
            failed[#failed + 1] = indices[r]
            codes[result.ErrorCode] = (codes[result.ErrorCode] or 0) + 1
          else
            delivered[indices[r]] = true
          end
        end
      end
    end
    if #failed == 0 then
      codes = {}
      break
    end
    pending = failed
    if attempt < self.max_attempts then
      self.sleep(self.base_delay * 2 ^ (attempt - 1) * (0.5 + math.random() / 2))
    end
  end
  return delivered, nil, codes
end

-- A sink writing one record per line to an open file.
local Lines = {}
Lines.__index = Lines

function Lines:deliver(batch)
  local delivered = {}
  for i, record in ipairs(batch) do
    local ok, err = self.file:write(record.data, "\n")
    if not ok then
      return nil, string.format("writing to %s: %s", self.name, err)
    end
    delivered[i] = true
  end
  self.file:flush()
  return delivered
end

function sinks.stdout()
  return setmetatable({ file = io.stdout, name = "standard output" }, Lines)
end

function sinks.file(path)
  local file, err = io.open(path, "a")
  if not file then
    error(string.format("cannot open the sink file: %s", err), 2)
  end
  return setmetatable({ file = file, name = path }, Lines)
end

-- Counts records and bytes and drops them (benchmarks).
local Count = {}
Count.__index = Count

function Count:deliver(batch)
  local delivered = {}
  for i, record in ipairs(batch) do
    self.records = self.records + 1
    self.bytes = self.bytes + #record.data
    delivered[i] = true
  end
  return delivered
end

function sinks.count()
  return setmetatable({ records = 0, bytes = 0 }, Count)
end

-- Makes a sink from its command-line name: kinesis, stdout, file:PATH,
-- count. opts carries what the Kinesis sink needs (client, stream).
function sinks.open(spec, opts)
  if spec == "kinesis" then
    return sinks.kinesis(opts)
  elseif spec == "stdout" then
    return sinks.stdout()
  elseif spec == "count" then
    return sinks.count()
  end
  local path = spec and spec:match("^file:(.+)$")
  if path then
    return sinks.file(path)
  end
  error(string.format("unknown sink %q (expected kinesis, stdout, file:PATH or count)",
    tostring(spec)), 2)
end

return sinks
