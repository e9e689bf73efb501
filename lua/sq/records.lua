-- Result records, streamquery_schema_version 1.0.0.
--
-- A result becomes one or more records; each is a complete record of the
-- schema (the three top-level keys StreamAlert's classifier matches) whose
-- data.rows holds part of the rows. Records are planned greedily, left to
-- right, so planning again from a record boundary gives the same records:
-- the pass relies on that to resume a result without losing or repeating
-- a row.
local cjson = require("cjson")

local records = {}

records.SCHEMA_VERSION = "1.0.0"
records.MAX_RECORD_BYTES = 1024 * 1024 -- Kinesis' limit, partition key included
records.MAX_KEY_BYTES = 256

local null = cjson.null
local encode = cjson.encode
local decode = cjson.decode
local concat = table.concat

-- The fixed bytes of a record besides the execution and headers: the
-- schema key, the data keys, a count of up to 10 digits, the part object
-- and the truncated flag.
local FRAME_BYTES = 200

local console_hosts = {
  cn = "console.amazonaws.cn",
}

-- The Athena console page of one query execution, in its real region.
function records.console_link(region, query_execution_id)
  if not region or not query_execution_id then
    return null
  end
  local host = console_hosts[region:match("^(%a+)%-")] or "console.aws.amazon.com"
  return string.format("https://%s.%s/athena/home?region=%s#/query-editor/history/%s",
    region, host, region, query_execution_id)
end

-- A list of strings as a JSON array (lua-cjson 2.1 writes {} for an
-- empty table, and an array is wanted even when empty).
local function string_array(list)
  local parts = {}
  for i, v in ipairs(list or {}) do
    parts[i] = encode(tostring(v))
  end
  return "[" .. concat(parts, ",") .. "]"
end

local function integer_json(n)
  return string.format("%d", math.floor(tonumber(n) or 0))
end

local function nullable(v)
  return (v == nil or v == null) and "null" or encode(v)
end

-- The execution object, in a stable key order, without its closing
-- brace: the part object is added per record.
local function execution_head(info)
  local names = {}
  for name in pairs(info.query_parameters or {}) do
    names[#names + 1] = name
  end
  table.sort(names)
  local parameters = {}
  for i, name in ipairs(names) do
    parameters[i] = encode(name) .. ":" .. encode(tostring(info.query_parameters[name]))
  end
  local parts = {
    '{"name":', encode(info.name),
    ',"description":', encode(info.description or ""),
    ',"query":', encode(info.query or ""),
    ',"query_parameters":{', concat(parameters, ","), "}",
    ',"data_scanned_in_bytes":', integer_json(info.data_scanned_in_bytes),
    ',"execution_time_ms":', integer_json(info.execution_time_ms),
    ',"tags":', string_array(info.tags),
    ',"query_execution_id":', nullable(info.query_execution_id),
    ',"console_link":', nullable(info.console_link),
  }
  if info.error then
    parts[#parts + 1] = ',"error":{"description":' .. encode(tostring(info.error)) .. "}"
  end
  return concat(parts)
end

-- A record under construction for one result: knows its execution and
-- headers and turns rows into complete record strings.
local Result = {}
Result.__index = Result

-- Starts the records of one query's result. info: the execution fields
-- (name, description, query, query_parameters, data_scanned_in_bytes,
-- execution_time_ms, tags, query_execution_id, console_link, error).
function records.result(info, headers)
  local encoded_keys, prefixes = {}, {}
  for i, name in ipairs(headers or {}) do
    encoded_keys[i] = encode(tostring(name))
    prefixes[i] = (i == 1 and "{" or ",") .. encoded_keys[i] .. ":"
  end
  local self = setmetatable({
    execution_head = execution_head(info),
    headers_json = string_array(headers),
    keys = encoded_keys,
    prefixes = prefixes, -- what comes before each value in a row's JSON
    key = info.name,
  }, Result)
  self.room = records.MAX_RECORD_BYTES - records.MAX_KEY_BYTES
    - #self.execution_head - #self.headers_json - FRAME_BYTES
  if self.room < 1024 then
    error(string.format("query %s: its SQL and parameters leave no room for rows in a "
      .. "1 MiB record", info.name), 2)
  end
  return self
end

-- One row as a JSON object. A row is an array of values (null for a
-- missing value), or the text of its JSON object already, as the Athena
-- engine gives it, which is used as it is. This runs for every row of
-- every result: the pieces are joined once, without a string per cell.
function Result:row_json(row)
  if type(row) == "string" then
    return row
  end
  local prefixes, parts = self.prefixes, {}
  local n = #prefixes
  if n == 0 then
    return "{}"
  end
  for i = 1, n do
    local value = row[i]
    parts[2 * i - 1] = prefixes[i]
    if value == nil or value == null then
      parts[2 * i] = "null"
    else
      parts[2 * i] = encode(value)
    end
  end
  parts[2 * n + 1] = "}"
  return concat(parts)
end

-- Cuts a string to at most n bytes without splitting a UTF-8 sequence.
local function cut_utf8(s, n)
  if #s <= n then
    return s
  end
  local i = n
  while i > 0 and s:byte(i + 1) and s:byte(i + 1) >= 0x80 and s:byte(i + 1) < 0xC0 do
    i = i - 1
  end
  return s:sub(1, i)
end

-- Where the JSON string that opens at 'start' ends (its closing quote).
local function string_end(text, start)
  local quote = start
  repeat
    quote = text:find('"', quote + 1, true)
    local backslashes = 0
    while text:byte(quote - 1 - backslashes) == 92 do -- a backslash
      backslashes = backslashes + 1
    end
  until backslashes % 2 == 0
  return quote
end

-- The values of a row given as the text of its JSON object, in the order
-- of its keys, which is the headers' order: {"k":"v",...,"k":null}, as
-- cjson and host.results write it (no white space; strings and nulls).
-- Keys are skipped, not decoded, so two columns of the same name keep
-- their own values.
local function row_values(text)
  local values, at = {}, 2
  if text == "{}" then
    return values
  end
  repeat
    at = string_end(text, at) + 2 -- past the key and its colon
    if text:sub(at, at + 3) == "null" then
      values[#values + 1], at = null, at + 4
    else
      local last = string_end(text, at)
      values[#values + 1], at = decode(text:sub(at, last)), last + 1
    end
    local separator = text:sub(at, at)
    at = at + 1
  until separator ~= ","
  return values
end

-- Shortens the longest values of a row until its JSON fits in the room a
-- record has. Returns the row's JSON, cut.
function Result:cut_row(row)
  local copy = {}
  local values = type(row) == "string" and row_values(row) or row
  for i = 1, #self.keys do
    copy[i] = values[i]
  end
  local json = self:row_json(copy)
  while #json > self.room do
    local longest, length = nil, -1
    for i = 1, #self.keys do
      local v = copy[i]
      if type(v) == "string" and #v > length then
        longest, length = i, #v
      end
    end
    if not longest or length == 0 then
      break -- only names and nulls left: cannot shrink further
    end
    local excess = #json - self.room
    copy[longest] = cut_utf8(copy[longest], math.max(0, length - excess - 16))
    json = self:row_json(copy)
  end
  return json
end

-- Plans the records for rows[first..last] (default: all): returns a list
-- of chunks, each a list of row JSON texts that fits in one record, with
-- chunk.truncated set when a row had to be cut.
function Result:plan(rows, first, last)
  local planned, current, size = {}, {}, 0
  local room = self.room
  for i = first or 1, last or #rows do
    local row = rows[i]
    local json = type(row) == "string" and row or self:row_json(row)
    local truncated = false
    if #json > room then
      json, truncated = self:cut_row(row), true
    end
    if #current > 0 and size + #json + 1 > room then
      planned[#planned + 1] = current
      current, size = {}, 0
    end
    current[#current + 1] = json
    current.truncated = current.truncated or truncated
    size = size + #json + 1
  end
  if #current > 0 then
    planned[#planned + 1] = current
  end
  return planned
end

-- The complete record for a planned chunk of rows.
function Result:render(chunk, index, last, truncated)
  local parts = {
    '{"streamquery_schema_version":"', records.SCHEMA_VERSION, '","execution":',
    self.execution_head, ',"part":{"index":', tostring(index), ',"last":',
    last and "true" or "false", '}},"data":{"headers":', self.headers_json,
    ',"rows":[', concat(chunk, ","), '],"count":', tostring(#chunk),
  }
  if truncated or chunk.truncated then
    parts[#parts + 1] = ',"truncated":true'
  end
  parts[#parts + 1] = "}}"
  return concat(parts)
end

-- The partition key of a record: the query name and part, so that the
-- parts of large results spread over the shards.
function Result:partition_key(index)
  return self.key .. ":" .. index
end

-- The single record of a failed, cancelled or timed-out query.
function records.error_record(info)
  local result = records.result(info, {})
  return result:render({}, 1, true, false), result:partition_key(1)
end

return records
