-- One pass over the selected queries (DESIGN.md, "One pass").
--
-- A pass starts what it may, checks what runs (including what it has
-- just started), delivers finished results page by page and returns its
-- progress in the state. It never waits for the engine; it only paces
-- its starts to the configured rate and stops in time for its deadline.
local hclock = require("host.clock")
local sigv4 = require("host.sigv4")
local clockobj = require("sq.clock")
local params = require("sq.params")
local template = require("sq.template")
local records = require("sq.records")
local state = require("sq.state")

local pass = {}

local PAGE_ROWS = 1000 -- Athena's most rows per GetQueryResults page
local FLUSH_BYTES = 4 * 1024 * 1024 -- records handed to the sink at once: about one
local FLUSH_RECORDS = 500           -- PutRecords request (5 MiB, 500 records)

-- Start errors that no later pass can cure: the pass stops with them.
local FATAL_START = {
  CredentialsError = true, UnrecognizedClientException = true,
  InvalidSignatureException = true, MissingAuthenticationTokenException = true,
}

-- A ClientRequestToken for a query: derived from the execution id when
-- the state machine passed one (a replay is a new execution, so it runs
-- afresh), otherwise random and kept in the state until the start
-- succeeds.
local function request_token(execution_id, name, entry)
  if execution_id then
    return sigv4.sha256_hex(execution_id .. "\n" .. name)
  end
  if not entry.token then
    local urandom = assert(io.open("/dev/urandom", "rb"))
    local bytes = urandom:read(16)
    urandom:close()
    entry.token = (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
  end
  return entry.token
end

-- Renders every selected query for the execution's clock.
local function prepare(ctx, st)
  local clock = clockobj.from_epoch(st.epoch)
  local items = {}
  for _, query in ipairs(ctx.queries) do
    local entry = st.entries[query.name] or {}
    st.entries[query.name] = entry
    local item = { query = query, entry = entry, name = query.name }
    local values, err = params.compute(query, clock)
    if values then
      item.sql, err = template.render(query.query, values)
    end
    item.values = values or {}
    item.render_error = not item.sql and err or nil
    items[#items + 1] = item
  end
  return items
end

-- The execution fields of a query's records.
local function record_info(ctx, item, status, error_text)
  local id = item.entry.query_execution_id
  return {
    name = item.name, description = item.query.description, query = item.sql or item.query.query,
    query_parameters = item.values, tags = item.query.tags, query_execution_id = id,
    data_scanned_in_bytes = status and status.data_scanned_in_bytes,
    execution_time_ms = status and status.execution_time_ms,
    console_link = id and ctx.engine.console_link and ctx.engine:console_link(id) or nil,
    error = error_text,
  }
end

local Pass = {}
Pass.__index = Pass

function Pass:time_left()
  return self.deadline - hclock.monotonic()
end

function Pass:out_of_time()
  return self:time_left() <= self.reserve
end

function Pass:log(level, message, fields)
  if self.ctx.log then
    self.ctx.log:log(level, message, fields)
  end
end

-- Queues the error record of a query that will not deliver a result;
-- code is the short reason kept in the state.
function Pass:fail(item, status, code, reason)
  item.entry.error = code
  local data, key = records.error_record(record_info(self.ctx, item, status, reason))
  self.errors[#self.errors + 1] = { data = data, key = key, item = item }
  self:log("warn", "query " .. item.name .. ": " .. reason, { query = item.name })
end

-- Sends the queued error records; a delivered one marks its query sent.
function Pass:deliver_errors()
  if #self.errors == 0 then
    return
  end
  local delivered = self:deliver(self.errors)
  for i, record in ipairs(self.errors) do
    if delivered[i] then
      record.item.entry.sent_to_streamalert = true
      self.summary.failed = self.summary.failed + 1
    else
      self.retry_later = true
      self.summary.undelivered = self.summary.undelivered + 1
    end
  end
  self.errors = {}
end

-- Hands records to the sink; returns one flag per record. A sink that
-- cannot deliver at all (a missing stream) ends the pass with an error.
function Pass:deliver(batch)
  local delivered, err, codes = self.ctx.sink:deliver(batch)
  if not delivered then
    error({ type = "DeliveryError", message = err }, 0)
  end
  local reasons = {}
  for code, count in pairs(codes or {}) do
    reasons[#reasons + 1] = string.format("%s x%d", code, count)
  end
  if #reasons > 0 then
    table.sort(reasons)
    self:log("warn", "records not delivered, to be sent again in the next pass: "
      .. table.concat(reasons, ", "))
  end
  for i = 1, #batch do
    if delivered[i] then
      self.summary.records_sent = self.summary.records_sent + 1
    end
  end
  return delivered
end

-- Starts pending queries within the concurrency limit and the start rate.
function Pass:start_pending(items)
  local limits = self.ctx.limits
  local running, pending = 0, {}
  for _, item in ipairs(items) do
    local entry = item.entry
    if not entry.sent_to_streamalert and not entry.error then
      if entry.query_execution_id then
        running = running + (entry.cursor and 0 or 1)
      else
        pending[#pending + 1] = item
      end
    end
  end
  local slots = math.max(0, limits.max_concurrent_queries - running)
  local rate = limits.start_rate_per_second
  -- The bucket may come from the caller, so that passes following each
  -- other in one process share the rate instead of each starting full.
  local bucket = self.ctx.start_bucket or {}
  if bucket.rate ~= rate then
    bucket.rate, bucket.tokens, bucket.at = rate, rate, hclock.monotonic()
  end
  local i = 1
  while i <= #pending and slots > 0 and not self:out_of_time() do
    local now = hclock.monotonic()
    bucket.tokens = math.min(rate, bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    local n = math.min(math.floor(bucket.tokens), slots, #pending - i + 1)
    if n == 0 then
      hclock.sleep((1 - bucket.tokens) / rate)
    else
      local batch, requests = {}, {}
      for j = i, i + n - 1 do
        local item = pending[j]
        local q = item.query
        batch[#batch + 1] = item
        requests[#requests + 1] = {
          name = item.name, sql = item.sql,
          token = request_token(self.st.execution_id, item.name, item.entry),
          database = q.database, workgroup = q.workgroup, output_location = q.output_location,
        }
      end
      i = i + n
      local started = self.ctx.engine:start(requests)
      -- The tokens are taken when the answers are in: the service counts
      -- a start when it receives it, after it was sent, so this bucket
      -- stays behind the service's and never lets a start be throttled.
      local answered = hclock.monotonic()
      bucket.tokens = math.min(rate, bucket.tokens + (answered - bucket.at) * rate) - n
      bucket.at = answered
      for j, item in ipairs(batch) do
        local result = started[j] or { error = { message = "no answer", retryable = true } }
        if result.id then
          item.entry.query_execution_id = result.id
          item.entry.started_at = self.now
          item.entry.token = nil
          slots = slots - 1
          self.summary.started = self.summary.started + 1
          self:log("info", "query " .. item.name .. " started", { query = item.name,
            query_execution_id = result.id })
        elseif FATAL_START[result.error.code] then
          error({ type = "ConfigurationError", message = "cannot start queries: "
            .. tostring(result.error.message) }, 0)
        elseif result.error.retryable then
          self.throttled = true
          self:log("info", "query " .. item.name .. " not started yet: "
            .. tostring(result.error.message), { query = item.name })
        else
          self:fail(item, nil, "START_FAILED",
            "could not start: " .. tostring(result.error.message))
        end
      end
    end
  end
  self.pending_left = #pending - i + 1 > 0
end

-- Checks every started query that is not delivered yet, in batches.
function Pass:check_running(items)
  local ids, by_id = {}, {}
  for _, item in ipairs(items) do
    local entry = item.entry
    if entry.query_execution_id and not entry.sent_to_streamalert and not entry.error then
      ids[#ids + 1] = entry.query_execution_id
      by_id[entry.query_execution_id] = item
    end
  end
  if #ids == 0 then
    return
  end
  local statuses, problem = self.ctx.engine:status(ids)
  if problem then
    self:log("warn", "checking the running queries failed, trying again in the next pass: "
      .. problem)
  end
  for id, item in pairs(by_id) do
    local status = statuses[id]
    item.status = status
    local s = status and status.state
    if s == "FAILED" or s == "CANCELLED" then
      self:fail(item, status, s, s .. ": " .. tostring(status.reason or "no reason given"))
    elseif s ~= "SUCCEEDED" then -- queued, running, or no answer this time
      self:check_timeout(item, status)
    end
  end
end

-- Stops a query that ran past its timeout_secs, or past the execution's.
function Pass:check_timeout(item, status)
  local limit = item.query.timeout_secs
  local elapsed = self.now - (item.entry.started_at or self.now)
  local reason
  if self.last_pass then
    reason = string.format("timed out: the execution reached sfn_timeout_secs (%d s)",
      self.ctx.sfn_timeout_secs)
  elseif limit and elapsed >= limit then
    reason = string.format("timed out after %d s (timeout_secs %d)", elapsed, limit)
  else
    self.running = true
    return
  end
  local ok, err = self.ctx.engine:stop(item.entry.query_execution_id)
  if not ok then
    self:log("warn", "query " .. item.name .. ": could not stop it: " .. tostring(err))
  end
  self:fail(item, status, "TIMED_OUT", reason)
end

-- Hands the records built since the last flush to the sink. pending
-- holds them in order from the cursor, those delivered in an earlier pass
-- without data. When all are delivered the cursor moves to where reading
-- stands (read) and it returns true; otherwise the cursor moves to the
-- first record not delivered, remembers which later ones were, and it
-- returns false.
function Pass:flush(item, cursor, pending, read)
  local batch = {}
  for _, record in ipairs(pending) do
    if record.data then
      batch[#batch + 1] = record
    end
  end
  local delivered = #batch > 0 and self:deliver(batch) or {}
  for i, record in ipairs(batch) do
    if delivered[i] then
      record.data = nil
      self.summary.rows_sent = self.summary.rows_sent + record.count
    end
  end
  for i, record in ipairs(pending) do
    if record.data then
      local rest, missing = {}, 1
      for j = i + 1, #pending do
        if pending[j].data then
          missing = missing + 1
        else
          rest[#rest + 1] = j - i + 1
        end
      end
      cursor.t, cursor.r, cursor.n, cursor.p = record.t, record.r, record.n, record.p
      cursor.s = #rest > 0 and rest or nil
      item.entry.cursor = state.cursor_text(cursor) -- the next pass resends only these
      self.retry_later = true
      self.summary.undelivered = self.summary.undelivered + missing
      return false
    end
  end
  cursor.t, cursor.r, cursor.n, cursor.p, cursor.s = read.t, read.r, read.n, read.p, nil
  item.entry.cursor = state.cursor_text(cursor)
  return true
end

-- Delivers one succeeded query's result from where its cursor stands,
-- page by page. The records of several pages go to the sink together
-- (about one PutRecords request's worth); a record never spans pages, so
-- planning a page again from the cursor gives the same records.
function Pass:deliver_result(item)
  local entry = item.entry
  local cursor, bad = state.cursor(entry.cursor)
  if not cursor then
    error({ type = "InvalidEvent",
            message = "step_function_state." .. item.name .. ": " .. bad }, 0)
  end
  local max_rows = item.query.max_rows
  local skip = {} -- records delivered in an earlier pass, by order from the cursor
  for _, k in ipairs(cursor.s or {}) do
    skip[k] = true
  end
  local read = { t = cursor.t, r = cursor.r, n = cursor.n, p = cursor.p }
  local pending, bytes, final, read_error, result = {}, 0, false, nil, nil
  -- Reading stops while a reserve is left for sending what was read.
  while not final and self:time_left() > 2 * self.reserve do
    local page, err = self.ctx.engine:results(entry.query_execution_id, read.t, PAGE_ROWS)
    if not page then
      read_error = err
      break
    end
    result = result or records.result(record_info(self.ctx, item, item.status), page.columns)
    local last_row, cut = #page.rows, false
    final = page.next_token == nil
    if max_rows and read.n + (last_row - read.r) >= max_rows then
      cut = read.n + (last_row - read.r) > max_rows or not final
      last_row, final = read.r + (max_rows - read.n), true
    end
    local plan = result:plan(page.rows, read.r + 1, last_row)
    if final and #plan == 0 then
      plan[1] = {} -- the last record of a result says so, even with no rows
    end
    local row = read.r
    for k, chunk in ipairs(plan) do
      local index = read.p + k - 1
      local record = { t = read.t, r = row, n = read.n + (row - read.r), p = index,
                       count = #chunk }
      pending[#pending + 1] = record
      if not skip[#pending] then
        local is_last = final and k == #plan
        record.data = result:render(chunk, index, is_last, cut and is_last)
        record.key = result:partition_key(index)
        bytes = bytes + #record.data
      end
      row = row + #chunk
    end
    read.n, read.p = read.n + (last_row - read.r), read.p + #plan
    read.t, read.r = page.next_token, 0
    if bytes >= FLUSH_BYTES or #pending >= FLUSH_RECORDS then
      if not self:flush(item, cursor, pending, read) then
        return
      end
      local shifted = {} -- the order of later records now counts from here
      for k in pairs(skip) do
        if k > #pending then
          shifted[k - #pending] = true
        end
      end
      skip, pending, bytes = shifted, {}, 0
    end
  end
  if not self:flush(item, cursor, pending, read) then
    return
  end
  if read_error then
    local message = type(read_error) == "table" and read_error.message or tostring(read_error)
    if (type(read_error) == "table" and read_error.retryable == false) or self.last_pass then
      self:fail(item, item.status, "READ_FAILED", "could not read the result: " .. message)
    else
      self.retry_later = true
      self:log("warn", "query " .. item.name .. ": reading the result failed, trying again "
        .. "in the next pass: " .. message, { query = item.name })
    end
  elseif final then
    entry.cursor, entry.sent_to_streamalert = nil, true
    self.summary.succeeded = self.summary.succeeded + 1
    self:log("info", string.format("query %s delivered: %d row%s in %d record%s", item.name,
      read.n, read.n == 1 and "" or "s", read.p - 1, read.p == 2 and "" or "s"),
      { query = item.name, rows = read.n })
  end
end

-- Runs one pass. ctx: engine, sink, queries (selected), limits,
-- sfn_timeout_secs, sfn_wait_secs, deadline (monotonic seconds), reserve,
-- now (wall clock function), log (an sq.log logger), start_bucket (a table
-- the pass keeps its start-rate token bucket in; default: a fresh one).
-- Returns the response and a summary
-- { done, wait, started, succeeded, failed, records_sent, rows_sent }.
function pass.run(ctx, st)
  local now = (ctx.now or hclock.now)()
  st.started_at = st.started_at or now
  local self = setmetatable({
    ctx = ctx, st = st, now = now, errors = {},
    deadline = ctx.deadline or math.huge, reserve = ctx.reserve or 0,
    summary = { started = 0, succeeded = 0, failed = 0, records_sent = 0, rows_sent = 0,
                undelivered = 0 },
  }, Pass)
  -- The last pass is the one after which a wait and another pass would
  -- not fit in sfn_timeout_secs; a pass lasts its budget at most.
  local budget = ctx.deadline and ctx.deadline - hclock.monotonic()
  local margin = (ctx.sfn_wait_secs or 0)
    + (budget or math.min(30, (ctx.sfn_timeout_secs or 0) / 10))
  self.last_pass = ctx.sfn_timeout_secs
    and st.started_at + ctx.sfn_timeout_secs - now <= margin or false

  local items = prepare(ctx, st)
  local ok, err = pcall(self.work, self, items)
  if not ok then
    if type(err) == "table" then
      err.response = state.response(st, false) -- the progress made before the error
    end
    error(err, 0)
  end

  local done = true
  for _, item in ipairs(items) do
    done = done and item.entry.sent_to_streamalert == true
  end
  local summary = self.summary
  summary.done = done
  summary.wait = self.running or self.throttled or self.pending_left or self.retry_later
    or false
  summary.queries = #items
  return state.response(st, done), summary
end

-- The steps of a pass, in order.
function Pass:work(items)
  for _, item in ipairs(items) do
    local entry = item.entry
    if entry.sent_to_streamalert then -- luacheck: ignore 542
    elseif entry.error then
      self:fail(item, nil, entry.error, entry.error) -- its error record is still to be sent
    elseif item.render_error then
      self:fail(item, nil, "RENDER_FAILED", "cannot render the query: " .. item.render_error)
    end
  end
  if self.last_pass then
    for _, item in ipairs(items) do
      local entry = item.entry
      if not entry.query_execution_id and not entry.sent_to_streamalert and not entry.error then
        self:fail(item, nil, "NOT_STARTED", "not started: the execution reached sfn_timeout_secs")
      end
    end
  else
    self:start_pending(items)
  end
  self:check_running(items)
  self:deliver_errors()
  for _, item in ipairs(items) do
    local entry = item.entry
    if not entry.sent_to_streamalert and not entry.error and item.status
        and item.status.state == "SUCCEEDED" then
      if self:out_of_time() then
        if not self.last_pass then
          break
        end
        self:fail(item, item.status, "TIMED_OUT", "timed out: the execution reached "
          .. "sfn_timeout_secs before the whole result was delivered")
      else
        self:deliver_guarded(item)
      end
    end
  end
  self:deliver_errors() -- those of results that could not be read or finished
end

-- Delivers a result; an unexpected error of the engine (a bug, a value it
-- cannot render) fails that query alone, with an error record.
function Pass:deliver_guarded(item)
  local ok, err = pcall(self.deliver_result, self, item)
  if not ok then
    if type(err) == "table" then
      error(err, 0) -- the pass's own errors (delivery, bad state) end it
    end
    self:fail(item, item.status, "READ_FAILED", "could not read the result: " .. tostring(err))
  end
end

return pass
