-- Query parameters (sq.params): the built-ins, their aliases, calculators.
local clock = require("sq.clock")
local params = require("sq.params")
local queries = require("sq.queries")

-- Loads one query file's text; returns its first query.
local function load_one(text)
  local set, problems = queries.load_sources({ { label = "scheduled_queries/q.lua", text = text } })
  assert.are.same({}, problems)
  return set.list[1]
end

describe("sq.params", function()
  local c = clock.parse("2020-02-13T22:06:20Z")

  it("computes the built-ins of the original for the clock 2020-02-13T22:06:20Z", function()
    local expected = {
      utcdatehour = "2020-02-13-22",
      utcdatehour_minus1hour = "2020-02-13-21",
      utcdatehour_minus2hour = "2020-02-13-20",
      utcdatehour_minus1day = "2020-02-12-22",
      utcdatehour_minus2day = "2020-02-11-22",
      utcdatehour_minus7day = "2020-02-06-22",
      utctimestamp = "1581631580",
      utctimestamp_minus1hour = "1581627980",
      utcisotime = "2020-02-13T22:06:20Z",
    }
    for name, value in pairs(expected) do
      assert.are.equal(value, params.builtin(name, c), name)
    end
  end)

  it("computes the families for any N", function()
    assert.are.equal("2020-02-12-21", params.builtin("utcdatehour_minus25hour", c))
    assert.are.equal("2020-01-14-22", params.builtin("utcdatehour_minus30day", c))
    assert.are.equal("2020-02-13", params.builtin("utcdate", c))
    assert.are.equal("2019-02-13", params.builtin("utcdate_minus365day", c))
    assert.are.equal("1581624380", params.builtin("utctimestamp_minus2hour", c))
    assert.are.equal("1581545180", params.builtin("utctimestamp_minus1day", c))
  end)

  it("crosses month ends and leap days in UTC", function()
    local march = clock.parse("2020-03-01T00:30:00Z")
    assert.are.equal("2020-02-29-23", params.builtin("utcdatehour_minus1hour", march))
    assert.are.equal("2020-02-29", params.builtin("utcdate_minus1day", march))
    assert.are.equal("2019-12-31-23", params.builtin("utcdatehour_minus1hour",
      clock.parse("2020-01-01T00:00:00Z")))
  end)

  it("knows which names are built-ins", function()
    for _, name in ipairs({ "utcdatehour", "utcdatehour_minus100hour", "utcdate_minus3day",
                            "utctimestamp_minus2hour", "utcisotime" }) do
      assert.is_true(params.is_builtin(name), name)
    end
    for _, name in ipairs({ "utcdatehour_minus0hour", "utcdatehour_minus01hour",
                            "utcdate_minus1hour", "utcisotime_minus1hour", "utcdatehour_minus1week",
                            "utcdatehour_minus1234567day", "datehour", "since", "" }) do
      assert.is_false(params.is_builtin(name), name)
    end
  end)

  it("takes datehour... as an alias of utcdatehour...", function()
    assert.are.same({ "utcdatehour_minus1hour", true },
      { params.canonical("datehour_minus1hour") })
    assert.are.same({ "utcdatehour", true }, { params.canonical("datehour") })
    assert.are.same({ "datehour_soon", false }, { params.canonical("datehour_soon") })
    assert.are.same({ "since", false }, { params.canonical("since") })
    assert.are.equal("2020-02-13-21", params.builtin("datehour_minus1hour", c))
  end)

  it("refuses to compute an unknown built-in", function()
    assert.has_error(function() params.builtin("utcweek", c) end,
      'unknown built-in parameter "utcweek"')
  end)

  it("turns calculator results into SQL text; integers have no decimal point", function()
    assert.are.same({ "abc" }, { params.to_text("abc") })
    assert.are.same({ "42" }, { params.to_text(42) })
    assert.are.same({ "42" }, { params.to_text(42.0) })
    assert.are.same({ "2.5" }, { params.to_text(2.5) })
    assert.are.same({ "-3" }, { params.to_text(-3) })
    assert.are.same({ nil, "returned a boolean; a parameter must be a string or a number" },
      { params.to_text(true) })
    assert.are.same({ nil, "returned nothing; a parameter must be a string or a number" },
      { params.to_text(nil) })
    assert.are.same({ nil, "returned inf, which is not a usable number" },
      { params.to_text(math.huge) })
  end)

  it("computes every parameter of a query, built-in, keyed and custom", function()
    local query = load_one([[
query {
  name = "q", description = "d", tags = { "hourly" },
  params = {
    "utcdatehour_minus1hour",
    dt = "utcdatehour",
    since = function(clock) return clock:add { hours = -1 }:iso() end,
    limit = function() return 10 end,
  },
  query = "SELECT {limit} '{utcdatehour_minus1hour}' '{dt}' '{since}'",
}]])
    assert.are.same({
      utcdatehour_minus1hour = "2020-02-13-21",
      dt = "2020-02-13-22",
      since = "2020-02-13T21:06:20Z",
      limit = "10",
    }, params.compute(query, c))
  end)

  it("names the query, its file and line when a calculator fails", function()
    local query = load_one([[

query {
  name = "broken", description = "d", tags = { "hourly" },
  params = { since = function(clock) return clock:add { weeks = 1 }:iso() end },
  query = "SELECT '{since}'",
}]])
    local values, err = params.compute(query, c)
    assert.is_nil(values)
    assert.are.equal("scheduled_queries/q.lua:2: query broken: parameter since: "
      .. 'scheduled_queries/q.lua:4: clock:add: unknown unit "weeks" (use days, hours, '
      .. "minutes, seconds)", err)
  end)

  it("reports a calculator that returns nothing", function()
    local query = load_one([[query {
  name = "silent", description = "d", tags = { "hourly" },
  params = { since = function() end },
  query = "SELECT '{since}'",
}]])
    assert.are.same({ nil, "scheduled_queries/q.lua:1: query silent: parameter since: returned "
      .. "nothing; a parameter must be a string or a number" }, { params.compute(query, c) })
  end)

  it("stops a calculator that never returns", function()
    local query = load_one([[query {
  name = "endless", description = "d", tags = { "hourly" },
  params = { since = function() while true do end end },
  query = "SELECT '{since}'",
}]])
    assert.are.same({ nil, "scheduled_queries/q.lua:1: query endless: parameter since: "
      .. "scheduled_queries/q.lua: instruction limit reached (an endless loop?)" },
      { params.compute(query, c) })
  end)

  it("gives a calculator the execution's clock, so a replay renders the same values", function()
    local query = load_one([[query {
  name = "replay", description = "d", tags = { "hourly" },
  params = { at = function(clock) return clock:iso() end },
  query = "SELECT '{at}'",
}]])
    assert.are.same({ at = "2020-02-13T22:06:20Z" }, params.compute(query, c))
    assert.are.same({ at = "2020-02-13T22:06:20Z" }, params.compute(query, c))
  end)
end)
