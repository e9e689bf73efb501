-- Logging to stderr: levels debug, info, warn, error.
--
--   local log = require("sq.log")
--   local logger = log.new { level = "info" }                 -- plain text
--   local lambda = log.new { level = "info", json = true }    -- one JSON object a line
--   logger:info("query started", { query = "root_activity", id = "70e5" })
--     plain: streamquery: info: query started id=70e5 query=root_activity
--     json:  {"level":"info","message":"query started","id":"70e5","query":"root_activity"}
--   logger:child { execution = "..." }   -- a logger adding these fields to every line
--
-- Plain text colours the level word only on a terminal, and never when
-- NO_COLOR is set (https://no-color.org). Fields whose names say they hold
-- a secret are printed as [redacted].
local cjson = require("cjson")

local log = {}

log.LEVELS = { debug = 10, info = 20, warn = 30, error = 40 }

local ALIASES = { warning = "warn", critical = "error", fatal = "error" }
local WORDS = { debug = "debug", info = "info", warn = "warning", error = "error" }
local COLORS = { debug = "2", info = "36", warn = "33", error = "31" }
local SECRET_KEYS = { "secret", "password", "authorization", "session_token", "security_token",
  "signature", "credentials" }

local Logger = {}
Logger.__index = Logger

-- The canonical name of a level ("WARNING" -> "warn"), or nil.
function log.level_name(name)
  if type(name) ~= "string" then
    return nil
  end
  name = name:lower()
  name = ALIASES[name] or name
  return log.LEVELS[name] and name or nil
end

local stderr_is_terminal = nil

-- True when file descriptor 2 is a terminal (asked once, of test(1)).
local function stderr_terminal()
  if stderr_is_terminal == nil then
    stderr_is_terminal = os.execute("test -t 2") == true
  end
  return stderr_is_terminal
end

-- Whether plain lines to stream should be coloured.
local function want_color(options, stream, getenv)
  if options.color ~= nil then
    return options.color
  end
  local no_color = getenv("NO_COLOR")
  if no_color ~= nil and no_color ~= "" then
    return false
  end
  if getenv("TERM") == "dumb" or stream ~= io.stderr then
    return false
  end
  return stderr_terminal()
end

-- Makes a logger. options: level (default "info"), json (false), stream
-- (io.stderr), color (nil = decide), fields (added to every line), getenv.
function log.new(options)
  options = options or {}
  local level = log.level_name(options.level or "info")
  if level == nil then
    error(string.format("unknown log level %q (use debug, info, warn or error)",
      tostring(options.level)), 2)
  end
  local stream = options.stream or io.stderr
  local self = setmetatable({
    level = level,
    json = options.json == true,
    stream = stream,
    fields = options.fields or {},
  }, Logger)
  self.color = not self.json and want_color(options, stream, options.getenv or os.getenv)
  return self
end

-- A logger writing to the same place with more fields.
function Logger:child(fields)
  local merged = {}
  for key, value in pairs(self.fields) do
    merged[key] = value
  end
  for key, value in pairs(fields or {}) do
    merged[key] = value
  end
  return setmetatable({ level = self.level, json = self.json, stream = self.stream,
    fields = merged, color = self.color }, Logger)
end

-- True when a message at level would be written.
function Logger:enabled(level)
  return log.LEVELS[log.level_name(level) or "error"] >= log.LEVELS[self.level]
end

local function is_secret(key)
  local lower = tostring(key):lower()
  for _, word in ipairs(SECRET_KEYS) do
    if lower:find(word, 1, true) then
      return true
    end
  end
  return false
end

-- The fields of one line: the logger's, then the call's, secrets hidden;
-- returns the map and its keys, sorted.
local function merge(base, extra)
  local merged, keys = {}, {}
  for _, source in ipairs({ base, extra or {} }) do
    for key, value in pairs(source) do
      if key ~= "level" and key ~= "message" then
        if merged[key] == nil then
          keys[#keys + 1] = key
        end
        merged[key] = is_secret(key) and "[redacted]" or value
      end
    end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return merged, keys
end

local function json_value(value)
  local ok, text = pcall(cjson.encode, value)
  if ok then
    return text
  end
  return cjson.encode(tostring(value))
end

-- A value as plain text: bare when it is one simple word, else quoted.
local function plain_value(value)
  if type(value) == "table" then
    return json_value(value)
  end
  local text = tostring(value)
  if text ~= "" and not text:find("[%s\"=\\]") then
    return text
  end
  return '"' .. text:gsub('[\\"]', "\\%0"):gsub("\n", "\\n"):gsub("\t", "\\t") .. '"'
end

-- Writes one line at level with message and fields.
function Logger:log(level, message, fields)
  local name = log.level_name(level)
  if name == nil then
    error(string.format("unknown log level %q", tostring(level)), 2)
  end
  if log.LEVELS[name] < log.LEVELS[self.level] then
    return
  end
  local merged, keys = merge(self.fields, fields)
  local parts = {}
  if self.json then
    parts[1] = '{"level":' .. json_value(name) .. ',"message":' .. json_value(tostring(message))
    for _, key in ipairs(keys) do
      parts[#parts + 1] = "," .. json_value(tostring(key)) .. ":" .. json_value(merged[key])
    end
    parts[#parts + 1] = "}\n"
  else
    local word = WORDS[name]
    if self.color then
      word = "\27[" .. COLORS[name] .. "m" .. word .. "\27[0m"
    end
    parts[1] = "streamquery: " .. word .. ": " .. tostring(message)
    for _, key in ipairs(keys) do
      parts[#parts + 1] = " " .. tostring(key) .. "=" .. plain_value(merged[key])
    end
    parts[#parts + 1] = "\n"
  end
  self.stream:write(table.concat(parts))
  if self.stream.flush then
    self.stream:flush()
  end
end

function Logger:debug(message, fields) self:log("debug", message, fields) end
function Logger:info(message, fields) self:log("info", message, fields) end
function Logger:warn(message, fields) self:log("warn", message, fields) end
function Logger:error(message, fields) self:log("error", message, fields) end

return log
