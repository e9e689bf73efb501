-- The Step Functions payload: reading an input event, writing a response.
--
-- Accepted inputs (DESIGN.md, "The Step Functions contract"):
--   the original's first event   { name, event_id, source_arn,
--                                  streamquery_configuration = { clock, tags } }
--   the original's later input   { done, continue, step_function_state = {...} }
--   this project's task input    { execution_id = "arn:...", event = <either of the above> }
--                                (execution_id may also stand beside the other keys)
-- Responses are always { done, continue = 1, step_function_state }.
--
-- Per-query entries keep the original's keys and add a few of their own,
-- all short, so that 1,000 queries fit in 256 KiB:
--   query_execution_id    the engine's id, once started
--   sent_to_streamalert   true once the result (or error) was delivered
--   error                 why the query did not succeed, as a short code
--                         (FAILED, CANCELLED, TIMED_OUT, NOT_STARTED,
--                         RENDER_FAILED, START_FAILED); the full reason goes
--                         into its error record
--   token                 ClientRequestToken kept between start attempts
--                         (only without an execution id)
--   started_at            epoch seconds when the query was started
--   cursor                where delivery stands inside a result, as the
--                         compact text "P:N:R:S:TOKEN" (see state.cursor)
local clock = require("host.clock")

local state = {}

state.CONFIGURATION_KEY = "streamquery_configuration"

local function invalid(message, ...)
  return nil, { type = "InvalidEvent", message = string.format(message, ...) }
end

local CONFIGURATION_FIELDS = { clock = true, tags = true, started_at = true,
  execution_id = true }

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do
    n = n + 1
  end
  return n
end

local ENTRY_FIELDS = {
  query_execution_id = "string", sent_to_streamalert = "boolean", error = "string",
  token = "string", started_at = "number", cursor = "string",
}

-- Checks one per-query entry; returns a clean copy or nil, err.
local function read_entry(name, entry)
  if type(entry) ~= "table" then
    return invalid("step_function_state.%s must be an object, got %s", name, type(entry))
  end
  local copy = {}
  for key, value in pairs(entry) do
    local expected = ENTRY_FIELDS[key]
    if key == "error" and value == true then
      value = "error" -- the original may record a bare flag
    end
    if expected and type(value) ~= expected then
      return invalid("step_function_state.%s.%s must be a %s, got %s", name, key, expected,
        type(value))
    end
    copy[key] = value
  end
  return copy
end

-- Reads the configuration object: clock, tags and this project's extras.
local function read_configuration(configuration)
  if type(configuration) ~= "table" then
    return invalid("%s must be an object with clock and tags", state.CONFIGURATION_KEY)
  end
  local clock_text = configuration.clock
  if type(clock_text) ~= "string" then
    return invalid("%s.clock must be a string like 2020-02-13T22:06:20Z",
      state.CONFIGURATION_KEY)
  end
  local epoch, err = clock.parse(clock_text)
  if not epoch then
    return invalid("%s.clock: %s", state.CONFIGURATION_KEY, err)
  end
  for key in pairs(configuration) do
    if not CONFIGURATION_FIELDS[key] then
      return invalid("%s has an unknown key %q (expected clock and tags)",
        state.CONFIGURATION_KEY, tostring(key))
    end
  end
  local tags = configuration.tags
  if type(tags) ~= "table" or #tags ~= count_keys(tags) then
    return invalid("%s.tags must be a list of strings, like [\"hourly\"]",
      state.CONFIGURATION_KEY)
  end
  for i, tag in ipairs(tags) do
    if type(tag) ~= "string" then
      return invalid("%s.tags[%d] must be a string", state.CONFIGURATION_KEY, i)
    end
  end
  local started_at = configuration.started_at
  if started_at ~= nil and type(started_at) ~= "number" then
    return invalid("%s.started_at must be a number", state.CONFIGURATION_KEY)
  end
  return { clock = clock_text, epoch = epoch, tags = tags, started_at = started_at,
           execution_id = configuration.execution_id }
end

-- Reads an input event into a state:
-- { clock, epoch, tags, started_at, execution_id, entries = name -> entry }
-- or returns nil, { type = "InvalidEvent", message = ... }.
function state.read(event)
  if type(event) ~= "table" then
    return invalid("the event must be a JSON object")
  end
  local execution_id = event.execution_id
  if event.event ~= nil then
    event = event.event
    if type(event) ~= "table" then
      return invalid("event must be a JSON object")
    end
  end
  if execution_id ~= nil and type(execution_id) ~= "string" then
    return invalid("execution_id must be a string")
  end
  local sfs = event.step_function_state
  if sfs == nil then
    if event[state.CONFIGURATION_KEY] == nil then
      return invalid("the event has neither step_function_state nor %s: it is not a "
        .. "StreamQuery event", state.CONFIGURATION_KEY)
    end
    -- A first event (its other keys are strings), or a state handed over
    -- without its { done, continue } wrapper: its objects are query entries.
    sfs = {}
    for key, value in pairs(event) do
      if key == state.CONFIGURATION_KEY or type(value) == "table" then
        sfs[key] = value
      end
    end
  elseif type(sfs) ~= "table" then
    return invalid("step_function_state must be an object")
  end
  local st, err = read_configuration(sfs[state.CONFIGURATION_KEY])
  if not st then
    return nil, err
  end
  st.execution_id = execution_id or st.execution_id
  st.entries = {}
  for name, entry in pairs(sfs) do
    if name ~= state.CONFIGURATION_KEY then
      if type(name) ~= "string" then
        return invalid("step_function_state has a key that is not a string")
      end
      st.entries[name], err = read_entry(name, entry)
      if not st.entries[name] then
        return nil, err
      end
    end
  end
  return st
end

-- The first event of an execution, as EventBridge's input transformer
-- writes it.
function state.first_event(clock_text, tags)
  return {
    name = "streamalert_scheduled_queries_cloudwatch_trigger",
    event_id = "local",
    source_arn = "local",
    [state.CONFIGURATION_KEY] = { clock = clock_text, tags = tags },
  }
end

-- A cursor in a result: p = index of the next record part, n = rows
-- delivered so far, r = rows of the current page delivered, s = offsets
-- (from the first undelivered record) of records delivered out of order,
-- t = the token of the current page (nil for the first page). In the
-- state it is the text "P:N:R:S:TOKEN", S a comma-separated list, so that
-- a query in the middle of a large result costs few bytes.
function state.cursor(text)
  if text == nil then
    return { p = 1, n = 0, r = 0 }
  end
  local p, n, r, s, t = text:match("^(%d+):(%d+):(%d+):([%d,]*):(.*)$")
  if not p then
    return nil, string.format("invalid result cursor %q", text)
  end
  local cursor = { p = tonumber(p), n = tonumber(n), r = tonumber(r) }
  if s ~= "" then
    cursor.s = {}
    for offset in s:gmatch("%d+") do
      cursor.s[#cursor.s + 1] = tonumber(offset)
    end
  end
  cursor.t = t ~= "" and t or nil
  return cursor
end

function state.cursor_text(cursor)
  return string.format("%d:%d:%d:%s:%s", cursor.p, cursor.n, cursor.r,
    table.concat(cursor.s or {}, ","), cursor.t or "")
end

-- The response for a state: { done, continue = 1, step_function_state }.
function state.response(st, done)
  local configuration = { clock = st.clock, tags = st.tags, started_at = st.started_at }
  local sfs = { [state.CONFIGURATION_KEY] = configuration }
  for name, entry in pairs(st.entries) do
    sfs[name] = entry
  end
  return { done = done and 1 or 0, ["continue"] = 1, step_function_state = sfs }
end

return state
