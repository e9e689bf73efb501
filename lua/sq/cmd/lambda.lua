-- bin/host lambda: the bootstrap of the Lambda custom runtime.
--
-- Loads the configuration and the queries once, then serves invocations
-- from the Runtime API ($AWS_LAMBDA_RUNTIME_API) for ever: each one is one
-- pass of sq.handler, the same as bin/host pass, with the time budget the
-- invocation's deadline leaves. A bad invocation gets an error response
-- ({ errorType, errorMessage }) and the loop goes on; a start-up failure
-- goes to the Runtime API's init/error and ends the process (status 2).
-- Logs are JSON lines on stderr.
local args = require("sq.args")
local cjson = require("cjson")
local handler = require("sq.handler")
local hclock = require("host.clock")
local http = require("host.http")
local log = require("sq.log")
local run = require("sq.cmd.run")
local runtime = require("host.runtime")

local lambda = {}

lambda.spec = {
  command = "lambda",
  summary = "Serve AWS Lambda invocations through the Runtime API (the custom runtime's "
    .. "bootstrap):\neach invocation is one pass, as bin/host pass.",
  options = {
    { name = "config", value = "PATH", help = "configuration file "
      .. "(default: conf/scheduled_queries.json)" },
    { name = "queries", value = "DIR", help = "query definitions (default: scheduled_queries)" },
  },
  notes = {
    "Needs AWS_LAMBDA_RUNTIME_API (host:port), which Lambda sets. Runs until the process is",
    "stopped; exit status 2 when start-up fails (reported to the Runtime API as well).",
  },
}

local json = cjson.new()
json.decode_invalid_numbers(false) -- NaN, Infinity and hex are not JSON

-- How many problems an init error quotes; the log has them all.
local QUOTED_PROBLEMS = 5

-- Logs problems and returns the errors among them as one message, or nil.
local function problems_message(logger, problems, where)
  local errors = {}
  for _, p in ipairs(problems) do
    local text = where(p) .. ": " .. p.message
    if p.level == "error" then
      logger:error(text)
      errors[#errors + 1] = text
    else
      logger:warn(text)
    end
  end
  if #errors == 0 then
    return nil
  end
  local shown = table.concat(errors, "; ", 1, math.min(#errors, QUOTED_PROBLEMS))
  if #errors > QUOTED_PROBLEMS then
    shown = string.format("%s; and %d more", shown, #errors - QUOTED_PROBLEMS)
  end
  return shown
end

-- Everything done once per process. Returns { handler =, log = }, or nil,
-- an error type and a message.
local function init(opts, ctx, logger)
  local root = ctx.root
  local cfg, config_problems = run.load_config(opts, root)
  local message = problems_message(logger, config_problems, run.config_where)
  if cfg == nil or message then
    return nil, "ConfigurationError", message or "the configuration could not be loaded"
  end
  logger = log.new { level = ctx.debug and "debug" or cfg.lambda.log_level, json = true }
  local set, query_problems = run.load_queries(opts, root)
  message = problems_message(logger, query_problems, run.query_where)
  if set == nil or message then
    return nil, "QueryFileError", message or "the query files could not be loaded"
  end
  local bundle, bundle_err = http.ca_bundle()
  if bundle == nil then
    return nil, "CABundleError", bundle_err
  end
  logger:info("ready", { queries = #set.list, ca_bundle = bundle })
  return { log = logger, handler = handler.new { root = root, config = cfg, queries = set,
    engine = "athena", sink = "kinesis", log = logger } }
end

-- The message handler of an invocation: keeps error objects, and adds a
-- traceback to anything else (a bug), which is logged, not returned.
local function with_traceback(err)
  if type(err) == "table" and type(err.type) == "string" then
    return err
  end
  return { type = "InternalError", message = tostring(err), traceback = debug.traceback(nil, 2) }
end

-- One pass for a decoded event; returns the response body, or nil and an
-- error object { type =, message = [, traceback =] }.
local function run_pass(h, event, info, logger)
  local ctx = { log = logger }
  if info.remaining_ms then
    ctx.deadline = hclock.monotonic() + info.remaining_ms / 1000
  end
  local done, response, summary = xpcall(h.invoke, with_traceback, h, event, ctx)
  if not done then
    return nil, response
  end
  local encoded, text = pcall(json.encode, response)
  if not encoded then
    return nil, { type = "InternalError", message = "the response cannot be encoded: " .. text }
  end
  logger:info("pass finished", summary)
  return text
end

-- Runs one invocation; returns the response body, or nil and an error
-- object, which it logs.
local function invoke(h, body, info, logger)
  local ok, event = pcall(json.decode, body)
  local response, err
  if not ok then
    err = { type = "InvalidEvent", message = "the event is not JSON: "
      .. tostring(event):gsub("^.-:%d+: ", "") }
  else
    if type(event) == "table" and type(event.execution_id) == "string" then
      logger = logger:child { execution_id = event.execution_id }
    end
    response, err = run_pass(h, event, info, logger)
  end
  if err then
    logger:error("invocation failed: " .. err.message,
      { error_type = err.type, traceback = err.traceback })
  end
  return response, err
end

-- The loop: one invocation after another until the Runtime API fails.
local function serve(client, h, logger)
  while true do
    local body, info = client:next()
    if body == nil then
      logger:error(info)
      return 1
    end
    local invocation_log = logger:child { request_id = info.request_id }
    local response, err = invoke(h, body, info, invocation_log)
    local sent, send_err
    if response then
      sent, send_err = client:respond(info.request_id, response)
    else
      sent, send_err = client:fail(info.request_id, err.type, err.message)
    end
    if not sent then
      invocation_log:error(send_err)
    end
  end
end

function lambda.run(argv, ctx)
  local opts, err = args.parse(lambda.spec, argv)
  if opts == nil then
    return args.fail(lambda.spec, err)
  end
  if opts.help then
    io.stdout:write(args.help(lambda.spec))
    return 0
  end
  local logger = log.new { json = true,
    level = ctx.debug and "debug" or log.level_name(os.getenv("LOGGER_LEVEL")) or "info" }
  local client, client_err = runtime.client()
  if client == nil then
    logger:error(client_err)
    return 2
  end
  local ready, error_type, message = init(opts, ctx, logger)
  if ready == nil then
    logger:error("start-up failed: " .. message, { error_type = error_type })
    local reported, report_err = client:init_error(error_type, message)
    if not reported then
      logger:error(report_err)
    end
    return 2
  end
  return serve(client, ready.handler, ready.log)
end

return lambda
