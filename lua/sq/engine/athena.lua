-- The Athena engine: the engine interface (sq.engine) over Athena's JSON
-- API, on the aws call layer. Status checks go 50 ids a call, and the
-- calls of one step run concurrently.
local cjson = require("cjson")
local results = require("host.results")
local records = require("sq.records")

local athena = {}

local TARGET = "AmazonAthena."
local BATCH_IDS = 50 -- BatchGetQueryExecution's most ids per call

-- Error codes of BatchGetQueryExecution's unprocessed ids worth asking
-- again about in the next pass.
local function transient(code)
  return code:find("Throttl") or code:find("TooMany") or code:find("Internal")
    or code:find("Unavailable") or code == "nil"
end

local Engine = {}
Engine.__index = Engine

-- opts: client (an sq.aws client), database, workgroup, output_location
-- (the configuration's defaults, each query may override them).
function athena.new(opts)
  return setmetatable({
    kind = "athena", client = opts.client, database = opts.database,
    workgroup = opts.workgroup, output_location = opts.output_location,
  }, Engine)
end

local function error_of(err)
  if type(err) ~= "table" then
    return { message = tostring(err), retryable = true }
  end
  local message = err.code and (err.code .. ": " .. tostring(err.message)) or err.message
  return { code = err.code, message = message, retryable = err.retryable == true }
end

-- StartQueryExecution for each request, concurrently.
function Engine:start(list)
  local calls = {}
  for i, request in ipairs(list) do
    local body = {
      QueryString = request.sql,
      ClientRequestToken = request.token,
      WorkGroup = request.workgroup or self.workgroup,
    }
    local database = request.database or self.database
    if database then
      body.QueryExecutionContext = { Database = database }
    end
    local output = request.output_location or self.output_location
    if output then
      body.ResultConfiguration = { OutputLocation = output }
    end
    calls[i] = { service = "athena", target = TARGET .. "StartQueryExecution", body = body }
  end
  local answers = self.client:batch(calls)
  local started = {}
  for i, answer in ipairs(answers) do
    if answer.response and answer.response.QueryExecutionId then
      started[i] = { id = answer.response.QueryExecutionId }
    else
      started[i] = { error = error_of(answer.error or "no QueryExecutionId in the answer") }
    end
  end
  return started
end

-- The engine's view of one QueryExecution.
local function status_of(execution)
  local status = execution.Status or {}
  local statistics = execution.Statistics or {}
  return {
    state = status.State,
    reason = status.StateChangeReason ~= cjson.null and status.StateChangeReason or nil,
    data_scanned_in_bytes = statistics.DataScannedInBytes,
    execution_time_ms = statistics.EngineExecutionTimeInMillis,
  }
end

-- BatchGetQueryExecution, 50 ids a call, the calls concurrent.
function Engine:status(ids)
  local calls = {}
  for first = 1, #ids, BATCH_IDS do
    local last = math.min(#ids, first + BATCH_IDS - 1)
    calls[#calls + 1] = { service = "athena", target = TARGET .. "BatchGetQueryExecution",
      body = { QueryExecutionIds = { table.unpack(ids, first, last) } } }
  end
  local statuses, problem = {}, nil
  for _, answer in ipairs(self.client:batch(calls)) do
    if answer.error then
      problem = problem or error_of(answer.error).message
    end
    local response = answer.response or {}
    for _, execution in ipairs(response.QueryExecutions or {}) do
      statuses[execution.QueryExecutionId] = status_of(execution)
    end
    for _, unprocessed in ipairs(response.UnprocessedQueryExecutionIds or {}) do
      local code = tostring(unprocessed.ErrorCode)
      if not transient(code) then -- an id Athena does not know will never finish
        statuses[unprocessed.QueryExecutionId] = { state = "FAILED",
          reason = code .. ": " .. tostring(unprocessed.ErrorMessage) }
      end
    end
  end
  return statuses, problem
end

-- One page of GetQueryResults. The body is not decoded into Lua values:
-- host.results reads it once and gives each row as the text of its JSON
-- object, which is what the records hold; the header row of the first
-- page is taken out of the rows.
function Engine:results(id, next_token, max_rows)
  local body, err = self.client:call("athena", TARGET .. "GetQueryResults",
    { QueryExecutionId = id, NextToken = next_token, MaxResults = max_rows }, { raw = true })
  if not body then
    return nil, error_of(err)
  end
  local page, bad = results.page(body, next_token == nil)
  if not page then
    return nil, error_of({ code = "InvalidResponse", message = "GetQueryResults: " .. bad })
  end
  return page
end

function Engine:stop(id)
  local response, err = self.client:call("athena", TARGET .. "StopQueryExecution",
    { QueryExecutionId = id })
  if not response then
    return nil, error_of(err).message
  end
  return true
end

function Engine:console_link(id)
  return records.console_link(self.client.region, id)
end

return athena
