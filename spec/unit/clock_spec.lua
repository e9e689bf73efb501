-- The execution clock object (sq.clock) handed to parameter calculators.
local clock = require("sq.clock")

describe("sq.clock", function()
  local c = clock.parse("2020-02-13T22:06:20Z")

  it("parses an ISO-8601 UTC time and gives it back", function()
    assert.are.equal(1581631580, c:epoch())
    assert.are.equal("2020-02-13T22:06:20Z", c:iso())
    assert.are.equal("2020-02-13T22:06:20Z", tostring(c))
  end)

  it("returns nil and a message for a malformed time", function()
    local parsed, err = clock.parse("2020-02-13 22:06:20")
    assert.is_nil(parsed)
    assert.are.equal('invalid clock "2020-02-13 22:06:20": expected YYYY-MM-DDTHH:MM:SSZ'
      .. " (for example 2020-02-13T22:06:20Z)", err)
    parsed, err = clock.parse(nil)
    assert.is_nil(parsed)
    assert.are.equal("invalid clock nil: expected a string like 2020-02-13T22:06:20Z", err)
  end)

  it("adds days, hours, minutes and seconds, and returns a new clock", function()
    local moved = c:add { days = -1, hours = 2, minutes = -6, seconds = -20 }
    assert.are.equal("2020-02-13T00:00:00Z", moved:iso())
    assert.are.equal("2020-02-13T22:06:20Z", c:iso())
    assert.are.equal("2020-03-01T00:06:20Z", c:add { days = 16, hours = 2 }:iso())
    assert.are.equal("2020-02-13T22:06:20Z", c:add {}:iso())
  end)

  it("accepts whole floats as amounts and rejects fractions and unknown units", function()
    assert.are.equal("2020-02-13T21:06:20Z", c:add { hours = -1.0 }:iso())
    assert.has_error(function() c:add { hours = 0.5 } end,
      "clock:add: hours must be a whole number, got 0.5")
    assert.has_error(function() c:add { weeks = 1 } end,
      'clock:add: unknown unit "weeks" (use days, hours, minutes, seconds)')
    assert.has_error(function() c:add(3) end,
      "clock:add: expected a table such as { hours = -1 }, got number")
  end)

  it("formats with strftime patterns in UTC", function()
    assert.are.equal("2020-02-13-22", c:format("%Y-%m-%d-%H"))
    assert.are.equal("Thursday 13 February 2020, 22:06 GMT", c:format("%A %d %B %Y, %H:%M %Z"))
    assert.has_error(function() c:format(nil) end,
      'clock:format: expected a pattern string such as "%Y-%m-%d", got nil')
  end)

  it("cannot be changed", function()
    assert.has_error(function() c.epoch = function() return 0 end end,
      "a clock cannot be changed; clock:add { ... } returns a new one")
    assert.are.equal("clock", getmetatable(c))
    assert.are.equal(1581631580, c:epoch())
  end)

  it("explains a method called with a dot instead of a colon", function()
    assert.has_error(function() c.iso() end, "clock:iso: call it with a colon, as clock:iso(...)")
  end)

  it("compares clocks by the time they hold", function()
    local same = clock.from_epoch(1581631580)
    assert.is_true(c == same)
    assert.is_true(c:add { seconds = -1 } < c)
    assert.is_true(c <= same)
    assert.is_false(c < same)
  end)

  it("makes clocks from whole epoch seconds only", function()
    assert.are.equal("1970-01-01T00:00:00Z", clock.from_epoch(0):iso())
    assert.are.equal("2020-02-13T22:06:20Z", clock.from_epoch(1581631580.0):iso())
    assert.has_error(function() clock.from_epoch(1.5) end,
      "clock.from_epoch: expected whole seconds, got 1.5")
  end)

  it("tells a clock from other values", function()
    assert.is_true(clock.is_clock(c))
    assert.is_false(clock.is_clock({}))
    assert.is_false(clock.is_clock(1581631580))
  end)

  it("reads the wall clock in whole seconds", function()
    local now = clock.now()
    assert.are.equal("integer", math.type(now:epoch()))
    assert.is_true(math.abs(now:epoch() - os.time()) <= 1)
  end)
end)
