-- The Step Functions payload, in both directions.
local cjson = require("cjson")
local state = require("sq.state")

local first_event = {
  name = "streamalert_scheduled_queries_cloudwatch_trigger",
  event_id = "12345678-53e7-b479-0601-1234567890",
  source_arn = "arn:aws:events:us-east-1:123456789012:rule/"
    .. "myprefix_streamalert_scheduled_queries_event_0",
  streamquery_configuration = { clock = "2020-02-13T22:06:20Z", tags = { "hourly" } },
}

describe("state", function()
  it("reads the original system's first event", function()
    local st = assert(state.read(first_event))
    assert.are.equal("2020-02-13T22:06:20Z", st.clock)
    assert.are.equal(1581631580, st.epoch)
    assert.are.same({ "hourly" }, st.tags)
    assert.are.same({}, st.entries)
    assert.is_nil(st.execution_id)
  end)

  it("reads a state the original system produced mid-execution", function()
    local st = assert(state.read(cjson.decode([[
      {"done": 0, "continue": 1, "step_function_state": {
        "streamquery_configuration": {"clock": "2020-02-13T22:06:20Z", "tags": ["hourly"]},
        "my_query": {"query_execution_id": "70e5c1d2-aaaa-bbbb-cccc-000000000000"},
        "my_done_query": {"query_execution_id": "beef", "sent_to_streamalert": true},
        "my_failed_query": {"query_execution_id": "dead", "sent_to_streamalert": true,
                            "error": true}}}]])))
    assert.are.same({ query_execution_id = "70e5c1d2-aaaa-bbbb-cccc-000000000000" },
      st.entries.my_query)
    assert.are.same({ query_execution_id = "beef", sent_to_streamalert = true },
      st.entries.my_done_query)
    assert.are.equal("error", st.entries.my_failed_query.error)
  end)

  it("reads a state handed over without its done/continue wrapper as a state", function()
    local st = assert(state.read({
      streamquery_configuration = { clock = "2020-02-13T22:06:20Z", tags = { "hourly" } },
      q = { query_execution_id = "abc", sent_to_streamalert = true } }))
    assert.are.same({ q = { query_execution_id = "abc", sent_to_streamalert = true } },
      st.entries)
  end)

  it("reads this project's task input with the execution id", function()
    local st = assert(state.read({ execution_id = "arn:aws:states:us-east-1:1:execution:sm:run-1",
                                   event = first_event }))
    assert.are.equal("arn:aws:states:us-east-1:1:execution:sm:run-1", st.execution_id)
    assert.are.same({ "hourly" }, st.tags)
  end)

  it("writes a response in the original's shape that reads back the same", function()
    local st = assert(state.read(first_event))
    st.started_at = 1581631590
    st.entries.q1 = { query_execution_id = "abc", sent_to_streamalert = true }
    local response = state.response(st, false)
    assert.are.equal(0, response.done)
    assert.are.equal(1, response["continue"])
    local again = assert(state.read(cjson.decode(cjson.encode(response))))
    assert.are.same(st.entries, again.entries)
    assert.are.equal(1581631590, again.started_at)
  end)

  it("writes a result cursor as compact text and reads it back", function()
    local cursor = { p = 12, n = 11000, r = 250, s = { 2, 5 }, t = "tok:en/+=" }
    assert.are.equal("12:11000:250:2,5:tok:en/+=", state.cursor_text(cursor))
    assert.are.same(cursor, state.cursor(state.cursor_text(cursor)))
    assert.are.same({ p = 1, n = 0, r = 0 }, state.cursor(nil))
    assert.are.same({ p = 3, n = 2000, r = 0 }, state.cursor("3:2000:0::"))
    assert.are.same({ nil, 'invalid result cursor "x"' }, { state.cursor("x") })
  end)

  it("rejects events that are not StreamQuery events, saying what is wrong", function()
    local cases = {
      { {}, "the event has neither step_function_state nor streamquery_configuration: "
            .. "it is not a StreamQuery event" },
      { { streamquery_configuration = { clock = "2020-02-13 22:06:20", tags = {} } },
        'streamquery_configuration.clock: invalid clock "2020-02-13 22:06:20": expected '
        .. "YYYY-MM-DDTHH:MM:SSZ (for example 2020-02-13T22:06:20Z)" },
      { { streamquery_configuration = { clock = "2020-02-13T22:06:20Z", tags = { 1 } } },
        "streamquery_configuration.tags[1] must be a string" },
      { { step_function_state = { streamquery_configuration = { clock = "2020-02-13T22:06:20Z",
                                                                tags = {} },
                                  q = { sent_to_streamalert = "yes" } } },
        "step_function_state.q.sent_to_streamalert must be a boolean, got string" },
    }
    for _, case in ipairs(cases) do
      local st, err = state.read(case[1])
      assert.is_nil(st)
      assert.are.same({ type = "InvalidEvent", message = case[2] }, err)
    end
  end)

  it("keeps the state of 1,000 queries with 128-character names under 256 KiB", function()
    local st = assert(state.read(first_event))
    st.started_at = 1581631590
    for i = 1, 1000 do
      local name = string.format("%04d", i) .. string.rep("q", 124)
      if i % 2 == 0 then
        st.entries[name] = { query_execution_id = "70e5c1d2-aaaa-bbbb-cccc-000000000000",
          sent_to_streamalert = true, error = "RENDER_FAILED" }
      else
        st.entries[name] = { query_execution_id = "70e5c1d2-aaaa-bbbb-cccc-000000000000",
          cursor = state.cursor_text({ t = string.rep("T", 32), r = 999, p = 999, n = 999999,
                                       s = { 2 } }) }
      end
    end
    local size = #cjson.encode(state.response(st, false))
    assert.is_true(size < 256 * 1024, "payload is " .. size .. " bytes")
  end)
end)
