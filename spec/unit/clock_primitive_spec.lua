-- The C clock primitive (host.clock), loaded from stock lua5.4.
local clock = require("host.clock")

describe("host.clock", function()
  it("parses an ISO-8601 UTC time into epoch seconds", function()
    assert.are.equal(1581631580, clock.parse("2020-02-13T22:06:20Z"))
  end)

  it("parses leap days and rejects the 29th of February of a common year", function()
    assert.are.equal(951782400, clock.parse("2000-02-29T00:00:00Z"))
    local epoch, err = clock.parse("2019-02-29T00:00:00Z")
    assert.is_nil(epoch)
    assert.are.equal('invalid clock "2019-02-29T00:00:00Z": expected YYYY-MM-DDTHH:MM:SSZ'
      .. " (for example 2020-02-13T22:06:20Z)", err)
  end)

  it("rejects anything but exactly YYYY-MM-DDTHH:MM:SSZ, quoting the input", function()
    for _, bad in ipairs({ "2020-02-13 22:06:20Z", "2020-02-13T22:06:20",
                           "2020-02-13T22:06:20.000Z", "2020-02-13T22:06:20+00:00",
                           "2020-13-13T22:06:20Z", "2020-02-13T24:00:00Z",
                           "20-02-13T22:06:20Z", "", "2020-02-1aT22:06:20Z" }) do
      local epoch, err = clock.parse(bad)
      assert.is_nil(epoch, bad)
      assert.truthy(err:find('"' .. bad .. '"', 1, true), err)
    end
  end)

  it("formats in UTC with strftime patterns", function()
    assert.are.equal("2020-02-13-22", clock.format(1581631580, "%Y-%m-%d-%H"))
    assert.are.equal("2020-02-13T22:06:20Z", clock.iso(1581631580))
  end)

  it("adds and subtracts seconds, minutes, hours and days", function()
    assert.are.equal(1581631581, clock.add(1581631580, 1))
    assert.are.equal(1581631580 - 3600, clock.add(1581631580, -1, "hours"))
    assert.are.equal("2020-02-06T22:06:20Z", clock.iso(clock.add(1581631580, -7, "days")))
    assert.are.equal("2020-02-13T22:16:20Z", clock.iso(clock.add(1581631580, 10, "minutes")))
  end)

  it("gives the same answers whatever TZ says", function()
    local script = [[print(require('host.clock').format(1581631580, '%Y-%m-%d %H:%M %Z'))]]
    local f = io.popen("TZ=America/Los_Angeles lua5.4 -e \"" .. script .. "\"")
    local out = f:read("a")
    f:close()
    assert.are.equal("2020-02-13 22:06 GMT\n", out)
  end)

  it("reads the wall clock and a monotonic clock", function()
    assert.is_true(math.abs(clock.now() - os.time()) <= 1)
    local t0 = clock.monotonic()
    clock.sleep(0.01)
    assert.is_true(clock.monotonic() - t0 >= 0.01)
  end)
end)
