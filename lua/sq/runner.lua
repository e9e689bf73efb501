-- Local runs: bin/host run plays the state machine on one machine (pass,
-- wait, pass, ... until done or timed out), and bin/host pass runs one
-- invocation. Both stand on sq.handler, as the Lambda bootstrap does.
local cjson = require("cjson")
local hclock = require("host.clock")
local handler = require("sq.handler")
local state = require("sq.state")

local runner = {}

local MIN_BUDGET = 1 -- seconds; a shorter pass cannot make progress

-- The options that real runs add to `run` (and `pass` shares).
runner.OPTIONS = {
  engine = { name = "engine", value = "NAME",
             help = "athena (default) or local (SQLite over --data, no AWS account)" },
  data = { name = "data", value = "DIR", help = "with --engine local: a folder per table" },
  sink = { name = "sink", value = "SINK", help = "kinesis (the configured stream), stdout, "
           .. "file:PATH or count (default: kinesis; stdout with --engine local)" },
  wait = { name = "wait", value = "SECONDS",
           help = "seconds between passes while queries run (default: sfn_wait_secs; "
           .. "0 with --engine local)" },
  budget = { name = "budget", value = "SECONDS",
             help = "time budget of one pass, as a Lambda deadline gives it (default: none)" },
}

local function number_option(opts, name)
  local text = opts[name]
  if text == nil then
    return true
  end
  local value = tonumber(text)
  if not value or value < 0 then
    return nil, string.format("--%s must be a number of seconds, got %q", name, text)
  end
  opts[name] = value
  return true
end

-- Checks the real-run options in place; returns true or nil, message.
function runner.check_options(opts)
  if opts.engine and opts.engine ~= "athena" and opts.engine ~= "local" then
    return nil, string.format("--engine must be athena or local, got %q", opts.engine)
  end
  if opts.engine == "local" and not opts.data then
    return nil, "--engine local needs --data DIR (a folder per table)"
  end
  if opts.data and opts.engine ~= "local" then
    return nil, "--data is for --engine local"
  end
  if opts.sink and not (opts.sink == "kinesis" or opts.sink == "stdout" or opts.sink == "count"
      or opts.sink:match("^file:.")) then
    return nil, string.format("--sink must be kinesis, stdout, file:PATH or count, got %q",
      opts.sink)
  end
  local ok, err = number_option(opts, "wait")
  if ok then
    ok, err = number_option(opts, "budget")
  end
  if ok and opts.budget and opts.budget < MIN_BUDGET then
    return nil, string.format("--budget must be at least %d second: a pass needs time to "
      .. "start, check and deliver", MIN_BUDGET)
  end
  return ok, err
end

-- The handler for a plan (see sq.cmd.run.prepare) and the options.
function runner.handler(plan, opts)
  local engine = opts.engine or "athena"
  return handler.new{
    root = plan.root, config = plan.config, queries = plan.set, engine = engine, data = opts.data,
    sink = opts.sink or (engine == "local" and "stdout" or "kinesis"), log = plan.log,
  }
end

-- Runs one invocation; returns response, summary, or nil, error object
-- (errors raised as strings become { type = "Error", message = ... }).
function runner.invoke(h, event, ctx)
  local ok, response, summary = pcall(h.invoke, h, event, ctx)
  if ok then
    return response, summary
  end
  if type(response) ~= "table" then
    response = { type = "Error", message = tostring(response) }
  end
  return nil, response
end

-- The exit status for an error object: 2 for bad input, else 1.
function runner.error_status(err)
  local bad_input = { InvalidEvent = true, ConfigurationError = true }
  return bad_input[err.type] and 2 or 1
end

-- The names of the selected queries that ended in error in a response.
local function failed_queries(response)
  local failed = {}
  for name, entry in pairs(response.step_function_state) do
    if name ~= state.CONFIGURATION_KEY and entry.error then
      failed[#failed + 1] = name
    end
  end
  table.sort(failed)
  return failed
end

-- Plays the state machine: passes until done, waiting between passes
-- while queries run. Returns the exit status.
function runner.run(plan, opts)
  local cfg, logger = plan.config, plan.log
  local h = runner.handler(plan, opts)
  local wait = opts.wait or ((opts.engine == "local") and 0 or cfg.sfn_wait_secs)
  local event = state.first_event(plan.clock:iso(), plan.tags)
  local started = hclock.monotonic()
  local limit = cfg.sfn_timeout_secs + 2 * wait + 60 -- past this the last pass failed to end it
  local totals = { started = 0, succeeded = 0, failed = 0, rows_sent = 0, records_sent = 0 }
  local number = 0
  while true do
    number = number + 1
    local deadline = opts.budget and hclock.monotonic() + opts.budget or nil
    local response, summary = runner.invoke(h, event, { names = plan.names, deadline = deadline })
    if not response then
      logger:error(summary.message)
      if summary.response then
        logger:info("the state when the pass stopped: " .. cjson.encode(summary.response))
      end
      return runner.error_status(summary)
    end
    for key in pairs(totals) do
      totals[key] = totals[key] + (summary[key] or 0)
    end
    logger:info(string.format("pass %d: %d of %d queries done (%d failed), %d started, "
      .. "%d rows in %d records sent", number, totals.succeeded + totals.failed, summary.queries,
      totals.failed, totals.started, totals.rows_sent, totals.records_sent))
    if response.done == 1 then
      local failed = failed_queries(response)
      if #failed > 0 then
        logger:warn("queries that did not succeed: " .. table.concat(failed, ", "))
        return 1
      end
      return 0
    end
    if hclock.monotonic() - started > limit then
      logger:error(string.format("the run went past sfn_timeout_secs (%d s) without finishing",
        cfg.sfn_timeout_secs))
      return 1
    end
    if summary.wait and wait > 0 then
      hclock.sleep(wait)
    end
    event = response
  end
end

return runner
