-- The handler: one invocation is one pass. Shared by `bin/host pass`,
-- `bin/host run` (which calls it until done) and the Lambda bootstrap
-- (which loads once and calls it per invocation).
--
--   local h = handler.new{ root = project root, config = cfg, queries = set,
--                          engine = "athena" | "local",
--                          data = DIR (local engine), sink = "kinesis" | "stdout" |
--                          "file:PATH" | "count" | a sink object, env = table,
--                          log = an sq.log logger }
--   local response, summary = h:invoke(event, { deadline = monotonic seconds,
--                                               names = { query names },
--                                               log = a logger for this invocation })
--
-- event: the decoded input (DESIGN.md, "The Step Functions contract"; see
-- sq.state for the accepted shapes). A bad event raises
-- { type = "InvalidEvent", message = ... }; a sink that cannot deliver at
-- all raises { type = "DeliveryError", message = ... }; missing credentials
-- and bad settings raise { type = "ConfigurationError", message = ... }.
-- An error raised during a pass carries the progress made as .response.
local cjson = require("cjson")
local hclock = require("host.clock")
local log = require("sq.log")
local state = require("sq.state")
local pass = require("sq.pass")
local selection = require("sq.selection")
local sinks = require("sq.sinks")

local handler = {}

local STATE_LIMIT = 256 * 1024 -- Step Functions' payload limit

-- Runs a constructor; an error it raises (bad region, endpoint, sink...)
-- becomes a ConfigurationError without a Lua source position.
local function configured(make, ...)
  local ok, result = pcall(make, ...)
  if not ok then
    local message = type(result) == "table" and result.message or tostring(result)
    error({ type = "ConfigurationError", message = (message:gsub("^[^:\n]*%.lua:%d+: ", "")) },
      0)
  end
  return result
end

local Handler = {}
Handler.__index = Handler

function handler.new(opts)
  return setmetatable({
    root = opts.root, config = opts.config, queries = opts.queries,
    engine_kind = opts.engine or "athena",
    data = opts.data, sink_spec = opts.sink or "kinesis", env = opts.env,
    log = opts.log or log.new{ level = "error" }, engines = {},
    start_bucket = {}, -- the start rate holds across passes of this process
  }, Handler)
end

-- The aws call layer, made on first use (the local engine with a local
-- sink never needs it).
function Handler:aws()
  if not self.client then
    local cfg = self.config
    self.client = configured(require("sq.aws").new, {
      region = cfg.athena.region, concurrency = cfg.limits.http_concurrency, env = self.env,
      log = self.log,
    })
  end
  return self.client
end

-- The engine for an execution clock; the local engine keeps its loaded
-- tables for every pass of the same execution.
function Handler:engine(epoch)
  if self.engine_kind == "local" then
    local engine = self.engines[epoch]
    if not engine then
      local logger = self.log
      engine = require("sq.engine.local").new{ root = self.root, data = self.data, clock = epoch,
        log = function(level, message) logger:log(level, message) end }
      self.engines = { [epoch] = engine }
    end
    return engine
  end
  if not self.athena then
    local athena_cfg = self.config.athena
    self.athena = require("sq.engine.athena").new{
      client = self:aws(), database = athena_cfg.database, workgroup = athena_cfg.workgroup,
      output_location = athena_cfg.output_location,
    }
  end
  return self.athena
end

function Handler:sink()
  if not self.sink_object then
    if type(self.sink_spec) == "table" then
      self.sink_object = self.sink_spec
    else
      local needs_aws = self.sink_spec == "kinesis"
      self.sink_object = configured(sinks.open, self.sink_spec, {
        client = needs_aws and self:aws() or nil, stream = self.config.stream })
    end
  end
  return self.sink_object
end

-- Fails before any work when Athena has no database for some query.
local function check_database(cfg, queries)
  if cfg.athena.database then
    return
  end
  for _, query in ipairs(queries) do
    if not query.database then
      error({ type = "ConfigurationError", message = string.format(
        "query %s has no Athena database: set athena.database in %s, ATHENA_DATABASE, "
        .. "or database in the query", query.name, cfg.path or "the configuration") }, 0)
    end
  end
end

function Handler:invoke(event, ctx)
  ctx = ctx or {}
  local logger = ctx.log or self.log
  local st, err = state.read(event)
  if not st then
    error(err, 0)
  end
  local selected = selection.select(self.queries, { tags = st.tags, names = ctx.names })
  if #selected == 0 then
    logger:warn(selection.describe_nothing(st.tags, ctx.names) .. ": nothing to do")
    st.started_at = st.started_at or hclock.now()
    return state.response(st, true), { done = true, wait = false, queries = 0, started = 0,
      succeeded = 0, failed = 0, records_sent = 0, rows_sent = 0, undelivered = 0 }
  end
  if self.engine_kind == "athena" then
    check_database(self.config, selected)
  end
  local cfg = self.config
  local budget = ctx.deadline and (ctx.deadline - hclock.monotonic()) or nil
  local engine, sink = self:engine(st.epoch), self:sink()
  if self.client then -- AWS calls end in time to return the progress
    self.client:set_deadline(budget and ctx.deadline - math.min(0.5, budget / 10))
  end
  local response, summary = pass.run({
    engine = engine, sink = sink, queries = selected,
    limits = cfg.limits, sfn_timeout_secs = cfg.sfn_timeout_secs,
    sfn_wait_secs = cfg.sfn_wait_secs, deadline = ctx.deadline,
    reserve = budget and math.min(1.0, budget / 4) or 0, log = logger,
    start_bucket = self.start_bucket,
  }, st)
  local size = #cjson.encode(response)
  if size > STATE_LIMIT then
    logger:warn(string.format("the state is %d bytes, over the %d bytes Step Functions "
      .. "accepts: select fewer queries per pack", size, STATE_LIMIT))
  end
  return response, summary
end

return handler
