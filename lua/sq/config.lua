-- Configuration: conf/scheduled_queries.json, checked against DESIGN.md.
--
--   config.load(path, env)      --> cfg, problems | nil, problems
--   config.format_problem(p)    --> "FILE: $.json.path: message"
--   config.default_path(root)   --> root .. "/conf/scheduled_queries.json"
--
-- A StreamAlert file loads unchanged: both destination_kinesis and
-- destination_kinesis_stream, both packs and query_packs are understood.
-- Each problem is { level = "error" | "warning", path = "$.a.b", message =,
-- file = }; an unknown key is a warning, anything else an error, and cfg is
-- nil as soon as there is one error. A JSON null stands for "not set": the
-- default applies. Problems that come from the environment have
-- file = "environment" and the variable's name as their path.
--
-- The environment wins over the file: REGION, ATHENA_DATABASE,
-- ATHENA_RESULTS_BUCKET, KINESIS_STREAM, LOGGER_LEVEL (an empty variable
-- counts as unset). An explicit athena.output_location is kept even when
-- ATHENA_RESULTS_BUCKET is set; without one it is s3://BUCKET/.
-- log_level is one of debug, info, warning, error, critical (any case,
-- "warn" meaning warning), stored in lower case.
local cjson = require("cjson")
local schedule = require("sq.schedule")
local suggest = require("sq.suggest")

local config = {}

local json = cjson.new()
json.decode_invalid_numbers(false) -- NaN, Infinity and hex are not JSON

local DEFAULT_RELATIVE_PATH = "conf/scheduled_queries.json"

local TOP_KEYS = { "enabled", "config", "packs", "query_packs", "lambda_config", "athena",
  "limits" }
local CONFIG_KEYS = { "destination_kinesis", "destination_kinesis_stream", "sfn_timeout_secs",
  "sfn_wait_secs" }
local PACK_KEYS = { "description", "schedule_expression" }
local ATHENA_KEYS = { "database", "workgroup", "output_location", "results_bucket", "region" }

-- Integer settings with their defaults and, where AWS has them, bounds.
local LAMBDA_INTEGERS = {
  { key = "log_retention_days", default = 14 },
  { key = "memory", default = 128, min = 128, max = 10240 },
  { key = "timeout", default = 60, min = 1, max = 900 },
  { key = "error_threshold", default = 1 },
  { key = "error_period_secs", default = 3600 },
  { key = "error_evaluation_periods", default = 2 },
}
local LAMBDA_KEYS = { "log_level", "alarms_enabled" }
for _, setting in ipairs(LAMBDA_INTEGERS) do
  LAMBDA_KEYS[#LAMBDA_KEYS + 1] = setting.key
end

-- One execution is built to hold 1,000 queries (the 256 KiB Step Functions payload), so a
-- larger concurrency or start rate could never be reached; the HTTP client keeps at most 256
-- requests in flight (aws.new refuses more).
local LIMIT_INTEGERS = {
  { key = "max_concurrent_queries", default = 20, max = 1000 },
  { key = "start_rate_per_second", default = 20, max = 1000 },
  { key = "http_concurrency", default = 8, max = 256 },
}

local LOG_LEVELS = {
  debug = "debug", info = "info", warn = "warning", warning = "warning", error = "error",
  critical = "critical",
}
local LOG_LEVEL_LIST = "debug, info, warning, error or critical"

local JSON_TOKENS = {
  T_OBJ_BEGIN = "'{'", T_OBJ_END = "'}'", T_ARR_BEGIN = "'['", T_ARR_END = "']'",
  T_STRING = "a string", T_NUMBER = "a number", T_BOOLEAN = "a boolean", T_NULL = "null",
  T_COLON = "':'", T_COMMA = "','", T_END = "the end of the file",
  T_WHITESPACE = "white space", T_ERROR = "an error", T_UNKNOWN = "an unknown token",
}


-- Quotes a string the way JSON writes it.
local function quote(text)
  local escaped = text:gsub('[%c"\\]', function(c)
    if c == '"' or c == "\\" then
      return "\\" .. c
    end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end


-- True for a decoded JSON array (a table with elements); an empty array and
-- an empty object decode alike and both count as an object.
local function is_array(value)
  return type(value) == "table" and rawlen(value) > 0
end


-- True when a decoded value is set (neither absent nor JSON null).
local function present(value)
  return value ~= nil and value ~= cjson.null
end


-- A decoded value as it would read in the file, for messages.
local function show(value)
  if value == cjson.null then
    return "null"
  end
  local kind = type(value)
  if kind == "string" then
    return quote(value)
  elseif kind == "number" then
    local integer = math.tointeger(value)
    if integer then
      return tostring(integer)
    end
    return string.format("%.14g", value)
  elseif kind == "table" then
    return is_array(value) and "an array" or "an object"
  end
  return tostring(value)
end


-- The JSON path of key inside the object at path.
local function child(path, key)
  if key:match("^[A-Za-z0-9_-]+$") then
    return path .. "." .. key
  end
  return path .. "[" .. quote(key) .. "]"
end


-- Records a problem.
local function report(ctx, level, path, message)
  ctx.problems[#ctx.problems + 1] = { level = level, path = path, message = message,
    file = ctx.file }
  if level == "error" then
    ctx.failed = true
  end
end


-- Warns about every key of object that is not in known, in sorted order.
local function warn_unknown(ctx, object, path, known)
  local allowed, unknown = {}, {}
  for _, key in ipairs(known) do
    allowed[key] = true
  end
  for key in pairs(object) do
    if type(key) ~= "string" or not allowed[key] then
      unknown[#unknown + 1] = tostring(key)
    end
  end
  table.sort(unknown)
  for _, key in ipairs(unknown) do
    local message = "unknown key, ignored (expected " .. table.concat(known, ", ") .. ")"
    for _, candidate in ipairs(known) do
      if suggest.distance(key:lower(), candidate) <= 2 then
        message = string.format("unknown key, ignored: did you mean %s?", candidate)
        break
      end
    end
    report(ctx, "warning", child(path, key), message)
  end
end


-- Checks that value is a JSON object; returns it, or {} when absent, or nil.
local function want_object(ctx, value, path)
  if not present(value) then
    return {}
  end
  if type(value) ~= "table" or is_array(value) then
    report(ctx, "error", path, "must be an object, got " .. show(value))
    return nil
  end
  return value
end


-- Checks an optional non-empty string; returns it (or nil).
local function want_string(ctx, value, path)
  if not present(value) then
    return nil
  end
  if type(value) ~= "string" then
    report(ctx, "error", path, "must be a string, got " .. show(value))
    return nil
  end
  if value == "" then
    report(ctx, "error", path, "must not be empty")
    return nil
  end
  return value
end


-- Checks an optional boolean; returns it, or default when absent.
local function want_boolean(ctx, value, path, default)
  if not present(value) then
    return default
  end
  if type(value) ~= "boolean" then
    report(ctx, "error", path, "must be a boolean (true or false), got " .. show(value))
    return default
  end
  return value
end


-- Checks an optional positive integer within the setting's bounds (min
-- defaults to 1, max to none); returns it, or the setting's default when
-- absent or wrong.
local function want_integer(ctx, value, path, setting)
  if not present(value) then
    return setting.default
  end
  local min, max = setting.min or 1, setting.max
  local integer = type(value) == "number" and math.tointeger(value)
  -- a whole number too large for an integer (1e20) is out of bounds, not a fraction
  local huge = not integer and type(value) == "number" and value > 0 and value < math.huge
    and value == math.floor(value)
  if huge then
    report(ctx, "error", path, string.format("must be between %d and %d, got %s", min,
      max or math.maxinteger, show(value)))
    return setting.default
  end
  if not integer or integer < 1 then
    report(ctx, "error", path, "must be a positive integer, got " .. show(value))
    return setting.default
  end
  if integer < min or (max and integer > max) then
    report(ctx, "error", path, string.format("must be between %d and %d, got %d", min,
      max or math.maxinteger, integer))
    return setting.default
  end
  return integer
end


-- Says what is wrong with a Kinesis stream name, or nil.
local function stream_problem(name)
  if #name > 128 or not name:match("^[A-Za-z0-9_.-]+$") then
    return "is not a Kinesis stream name (1 to 128 of A-Z a-z 0-9 _ . -): " .. quote(name)
  end
  return nil
end


-- Says what is wrong with an S3 bucket name, or nil.
local function bucket_problem(name)
  if name:match("^[sS]3://") then
    return string.format("must be a bucket name, not a URL: %s",
      quote((name:gsub("^[sS]3://", ""):gsub("/.*$", ""))))
  end
  if #name < 3 or #name > 63 or not name:match("^[a-z0-9][a-z0-9.-]*[a-z0-9]$") then
    return "is not an S3 bucket name (3 to 63 of a-z 0-9 . -): " .. quote(name)
  end
  return nil
end


-- The log level name for text, or nil.
local function log_level(text)
  return LOG_LEVELS[text:lower()]
end


-- Checks the config section: destination stream and Step Functions timing.
local function check_config(ctx, section, cfg)
  local path = "$.config"
  section = want_object(ctx, section, path)
  if not section then
    return
  end
  warn_unknown(ctx, section, path, CONFIG_KEYS)
  local short = want_string(ctx, section.destination_kinesis, path .. ".destination_kinesis")
  local long = want_string(ctx, section.destination_kinesis_stream,
    path .. ".destination_kinesis_stream")
  if short and long and short ~= long then
    report(ctx, "error", path .. ".destination_kinesis_stream", string.format(
      "conflicts with $.config.destination_kinesis (%s and %s): keep one of them",
      quote(long), quote(short)))
  end
  local stream = long or short
  local key = long and "destination_kinesis_stream" or "destination_kinesis"
  local err = stream and stream_problem(stream)
  if err then
    report(ctx, "error", path .. "." .. key, err)
    stream = nil
  end
  cfg.stream = stream
  cfg.sfn_timeout_secs = want_integer(ctx, section.sfn_timeout_secs, path .. ".sfn_timeout_secs",
    { default = 3600 })
  cfg.sfn_wait_secs = want_integer(ctx, section.sfn_wait_secs, path .. ".sfn_wait_secs",
    { default = 30 })
  if cfg.sfn_wait_secs >= cfg.sfn_timeout_secs then
    report(ctx, "warning", path .. ".sfn_wait_secs", string.format(
      "is not less than sfn_timeout_secs (%d): an execution gets a single pass",
      cfg.sfn_timeout_secs))
  end
end


-- Checks one query pack; returns { description =, schedule_expression = }.
local function check_pack(ctx, name, pack, path)
  if not name:match("^[A-Za-z0-9_-]+$") then
    report(ctx, "error", path, "a pack name may only hold letters, digits, _ and -: "
      .. quote(name))
  end
  if type(pack) ~= "table" or is_array(pack) then
    report(ctx, "error", path, "must be an object with description and schedule_expression,"
      .. " got " .. show(pack))
    return nil
  end
  warn_unknown(ctx, pack, path, PACK_KEYS)
  local description = want_string(ctx, pack.description, path .. ".description") or ""
  local expression = pack.schedule_expression
  local expression_path = path .. ".schedule_expression"
  if not present(expression) then
    report(ctx, "error", expression_path, "missing: every pack needs one, for example"
      .. " rate(1 hour) or cron(1 * * * ? *)")
    return nil
  end
  if type(expression) ~= "string" then
    report(ctx, "error", expression_path, "must be a string, got " .. show(expression))
    return nil
  end
  local ok, err = schedule.validate(expression)
  if not ok then
    report(ctx, "error", expression_path, err)
    return nil
  end
  return { description = description, schedule_expression = expression }
end


-- Checks packs (or query_packs); fills cfg.packs and cfg.pack_names.
local function check_packs(ctx, document, cfg)
  cfg.packs, cfg.pack_names = {}, {}
  local found = {}
  for _, key in ipairs({ "packs", "query_packs" }) do
    if present(document[key]) then
      found[#found + 1] = key
    end
  end
  if #found == 2 then
    report(ctx, "error", "$.query_packs", "both $.packs and $.query_packs are present:"
      .. " keep one of them")
  elseif #found == 0 then
    report(ctx, "warning", "$.packs", "missing: no query pack is scheduled")
  end
  for _, key in ipairs(found) do
    local path = "$." .. key
    local packs = want_object(ctx, document[key], path)
    local names = {}
    for name in pairs(packs or {}) do
      names[#names + 1] = name
    end
    table.sort(names)
    for _, name in ipairs(names) do
      local pack = check_pack(ctx, name, packs[name], child(path, name))
      if pack then
        cfg.packs[name] = pack
        cfg.pack_names[#cfg.pack_names + 1] = name
      end
    end
  end
  table.sort(cfg.pack_names)
end


-- Checks lambda_config; fills cfg.lambda.
local function check_lambda(ctx, section, cfg)
  local path = "$.lambda_config"
  local lambda = { log_level = "info", alarms_enabled = true }
  cfg.lambda = lambda
  for _, setting in ipairs(LAMBDA_INTEGERS) do
    lambda[setting.key] = setting.default
  end
  section = want_object(ctx, section, path)
  if not section then
    return
  end
  warn_unknown(ctx, section, path, LAMBDA_KEYS)
  local level = want_string(ctx, section.log_level, path .. ".log_level")
  if level then
    if log_level(level) then
      lambda.log_level = log_level(level)
    else
      report(ctx, "error", path .. ".log_level", string.format("must be %s, got %s",
        LOG_LEVEL_LIST, quote(level)))
    end
  end
  lambda.alarms_enabled = want_boolean(ctx, section.alarms_enabled, path .. ".alarms_enabled",
    lambda.alarms_enabled)
  for _, setting in ipairs(LAMBDA_INTEGERS) do
    lambda[setting.key] = want_integer(ctx, section[setting.key], path .. "." .. setting.key,
      setting)
  end
end


-- Checks the athena section; fills cfg.athena (before the environment).
local function check_athena(ctx, section, cfg)
  local path = "$.athena"
  local athena = { workgroup = "primary" }
  cfg.athena = athena
  section = want_object(ctx, section, path)
  if not section then
    return
  end
  warn_unknown(ctx, section, path, ATHENA_KEYS)
  athena.database = want_string(ctx, section.database, path .. ".database")
  athena.workgroup = want_string(ctx, section.workgroup, path .. ".workgroup") or "primary"
  athena.region = want_string(ctx, section.region, path .. ".region")
  local location = want_string(ctx, section.output_location, path .. ".output_location")
  if location and not location:match("^s3://[^/]") then
    report(ctx, "error", path .. ".output_location", "must be an S3 URL such as"
      .. " \"s3://bucket/prefix/\", got " .. quote(location))
    location = nil
  end
  athena.output_location = location
  local bucket = want_string(ctx, section.results_bucket, path .. ".results_bucket")
  local err = bucket and bucket_problem(bucket)
  if err then
    report(ctx, "error", path .. ".results_bucket", err)
    bucket = nil
  end
  athena.results_bucket = bucket
end


-- Checks the limits section; fills cfg.limits.
local function check_limits(ctx, section, cfg)
  local path = "$.limits"
  local limits = {}
  cfg.limits = limits
  for _, setting in ipairs(LIMIT_INTEGERS) do
    limits[setting.key] = setting.default
  end
  section = want_object(ctx, section, path)
  if not section then
    return
  end
  local known = {}
  for _, setting in ipairs(LIMIT_INTEGERS) do
    known[#known + 1] = setting.key
    limits[setting.key] = want_integer(ctx, section[setting.key], path .. "." .. setting.key,
      setting)
  end
  warn_unknown(ctx, section, path, known)
end


-- Applies the Lambda environment of the original over the file's values.
local function apply_environment(ctx, getenv, cfg)
  local function value(name)
    local text = getenv(name)
    if text == nil or text == "" then
      return nil
    end
    return text
  end
  local environment = { file = "environment", problems = ctx.problems }
  local function bad(name, message)
    report(environment, "error", name, message)
    ctx.failed = true
  end
  cfg.athena.region = value("REGION") or cfg.athena.region
  cfg.athena.database = value("ATHENA_DATABASE") or cfg.athena.database
  local bucket = value("ATHENA_RESULTS_BUCKET")
  if bucket then
    local err = bucket_problem(bucket)
    if err then
      bad("ATHENA_RESULTS_BUCKET", err)
    else
      cfg.athena.results_bucket = bucket
    end
  end
  local stream = value("KINESIS_STREAM")
  if stream then
    local err = stream_problem(stream)
    if err then
      bad("KINESIS_STREAM", err)
    else
      cfg.stream = stream
    end
  end
  cfg.log_level = cfg.lambda.log_level
  local level = value("LOGGER_LEVEL")
  if level then
    if log_level(level) then
      cfg.log_level = log_level(level)
    else
      bad("LOGGER_LEVEL", string.format("must be %s, got %s", LOG_LEVEL_LIST, quote(level)))
    end
  end
  if not cfg.athena.output_location and cfg.athena.results_bucket then
    cfg.athena.output_location = "s3://" .. cfg.athena.results_bucket .. "/"
  end
end


-- Turns a lua-cjson decoding error ("... at character N") into a message
-- with the line and column of that byte in text.
local function json_error(text, err)
  local detail, offset = tostring(err):match("^(.-) at character (%d+)$")
  if not detail then
    return "invalid JSON: " .. tostring(err)
  end
  offset = tonumber(offset)
  local line, line_start = 1, 1
  for newline in text:sub(1, offset - 1):gmatch("()\n") do
    line = line + 1
    line_start = newline + 1
  end
  local column = (utf8.len(text, line_start, offset - 1) or (offset - line_start)) + 1
  detail = detail:gsub("T_[%u_]+", JSON_TOKENS)
  detail = detail:sub(1, 1):lower() .. detail:sub(2)
  if detail:match("found '[%]}]'$") and text:sub(1, offset - 1):match(",%s*$") then
    detail = detail .. " (remove the trailing comma)"
  end
  return string.format("invalid JSON at line %d, column %d: %s", line, column, detail)
end


-- The text of valid JSON with every empty array written [null]: lua-cjson
-- decodes [] and {} alike, and an empty array where an object belongs (the
-- whole document, a section) must be refused, not read as an empty object.
-- No setting takes an array, so [null] draws the same error as [].
local function mark_empty_arrays(text)
  local out, i = {}, 1
  while true do
    local at = text:find('["[]', i)
    if not at then
      break
    end
    local after
    if text:sub(at, at) == '"' then
      after = at + 1
      while text:sub(after, after) ~= '"' do -- the text is valid JSON: the string ends
        after = text:find('["\\]', after)
        if text:sub(after, after) == "\\" then
          after = after + 2
        end
      end
      out[#out + 1] = text:sub(i, after)
      i = after + 1
    else
      after = text:match("^%[[ \t\r\n]*%]()", at)
      if after then
        out[#out + 1] = text:sub(i, at - 1) .. "[null]"
        i = after
      else
        out[#out + 1] = text:sub(i, at)
        i = at + 1
      end
    end
  end
  out[#out + 1] = text:sub(i)
  return table.concat(out)
end


-- Reads and decodes the file; returns the document or nil (with a problem).
local function read_document(ctx, path)
  local file, open_err = io.open(path, "rb")
  if not file then
    local reason = tostring(open_err):gsub("^.*: ", "")
    report(ctx, "error", "$", "cannot read the file: " .. reason)
    return nil
  end
  local text, read_err = file:read("a")
  file:close()
  if not text then
    report(ctx, "error", "$", "cannot read the file: " .. tostring(read_err))
    return nil
  end
  text = text:gsub("^\239\187\191", "") -- a UTF-8 byte order mark
  local ok, document = pcall(json.decode, text)
  if not ok then
    report(ctx, "error", "$", json_error(text, document))
    return nil
  end
  if text:find("[", 1, true) then
    document = json.decode(mark_empty_arrays(text))
  end
  if type(document) ~= "table" or is_array(document) then
    report(ctx, "error", "$", "must be a JSON object, got " .. show(document))
    return nil
  end
  return document
end


-- Loads and checks the configuration file at path. env maps environment
-- variable names to values; when nil, os.getenv is used.
function config.load(path, env)
  if type(path) ~= "string" then
    error("config.load: path must be a string, got " .. type(path), 2)
  end
  if env ~= nil and type(env) ~= "table" then
    error("config.load: env must be a table or nil, got " .. type(env), 2)
  end
  local getenv = os.getenv
  if env then
    getenv = function(name)
      return env[name]
    end
  end
  local ctx = { file = path, problems = {}, failed = false }
  local document = read_document(ctx, path)
  if not document then
    return nil, ctx.problems
  end
  local cfg = { path = path }
  warn_unknown(ctx, document, "$", TOP_KEYS)
  if present(document.enabled) then
    cfg.enabled = want_boolean(ctx, document.enabled, "$.enabled", false)
  else
    cfg.enabled = false
    report(ctx, "warning", "$.enabled", "missing, taken as false: set true to activate"
      .. " scheduled queries")
  end
  check_config(ctx, document.config, cfg)
  check_packs(ctx, document, cfg)
  check_lambda(ctx, document.lambda_config, cfg)
  check_athena(ctx, document.athena, cfg)
  check_limits(ctx, document.limits, cfg)
  apply_environment(ctx, getenv, cfg)
  if ctx.failed then
    return nil, ctx.problems
  end
  return cfg, ctx.problems
end


-- One problem as a line for a person: "FILE: PATH: message", with
-- "warning: " before the message of a warning.
function config.format_problem(problem)
  local message = problem.message
  if problem.level == "warning" then
    message = "warning: " .. message
  end
  return string.format("%s: %s: %s", problem.file or DEFAULT_RELATIVE_PATH,
    problem.path or "$", message)
end


-- The configuration file's place under a repository root.
function config.default_path(root)
  if root == nil then
    return DEFAULT_RELATIVE_PATH
  end
  if type(root) ~= "string" then
    error("config.default_path: root must be a string, got " .. type(root), 2)
  end
  return root .. "/" .. DEFAULT_RELATIVE_PATH
end


return config
