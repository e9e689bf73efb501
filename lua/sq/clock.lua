-- The execution's clock: an immutable point in time, UTC only.
--
--   local clock = require("sq.clock")
--   local c = clock.parse("2020-02-13T22:06:20Z")   -- or nil, err
--   c:add { hours = -1 }        --> a new clock, 2020-02-13T21:06:20Z
--   c:format("%Y-%m-%d-%H")     --> "2020-02-13-22" (strftime, in UTC)
--   c:epoch()                   --> 1581631580
--   c:iso()                     --> "2020-02-13T22:06:20Z"
--
-- Query files receive this object in their parameter calculators, so it
-- must not change under them: it has no fields to write and its
-- metatable is locked.
local primitive = require("host.clock")

local clock = {}

local methods = {}
local epochs = setmetatable({}, { __mode = "k" }) -- clock object -> epoch seconds

local metatable = {
  __index = methods,
  __newindex = function()
    error("a clock cannot be changed; clock:add { ... } returns a new one", 2)
  end,
  __tostring = function(self)
    return primitive.iso(epochs[self])
  end,
  __eq = function(a, b)
    return epochs[a] == epochs[b]
  end,
  __lt = function(a, b)
    return epochs[a] < epochs[b]
  end,
  __le = function(a, b)
    return epochs[a] <= epochs[b]
  end,
  __metatable = "clock",
}

-- The units add() accepts, in the order they are applied.
local UNITS = { "days", "hours", "minutes", "seconds" }

-- Returns the epoch of a clock object, raising when self is not one.
local function epoch_of(self, method)
  local epoch = epochs[self]
  if epoch == nil then
    error(string.format("clock:%s: call it with a colon, as clock:%s(...)", method, method), 3)
  end
  return epoch
end

-- Makes a clock for an integer number of seconds since the epoch.
function clock.from_epoch(seconds)
  if math.type(seconds) ~= "integer" then
    if type(seconds) == "number" and seconds == math.floor(seconds) and seconds == seconds then
      seconds = math.tointeger(seconds)
    end
    if seconds == nil or math.type(seconds) ~= "integer" then
      error("clock.from_epoch: expected whole seconds, got " .. tostring(seconds), 2)
    end
  end
  local self = setmetatable({}, metatable)
  epochs[self] = seconds
  return self
end

-- Parses "YYYY-MM-DDTHH:MM:SSZ"; returns a clock, or nil and a message.
function clock.parse(text)
  if type(text) ~= "string" then
    return nil, string.format("invalid clock %s: expected a string like 2020-02-13T22:06:20Z",
      tostring(text))
  end
  local epoch, err = primitive.parse(text)
  if epoch == nil then
    return nil, err
  end
  return clock.from_epoch(epoch)
end

-- The wall clock, rounded down to the second.
function clock.now()
  return clock.from_epoch(primitive.now())
end

-- True when value is a clock object.
function clock.is_clock(value)
  return epochs[value] ~= nil
end

-- Returns a new clock moved by days, hours, minutes and seconds (each an
-- integer, negative to go back).
function methods:add(amounts)
  local epoch = epoch_of(self, "add")
  if type(amounts) ~= "table" then
    error("clock:add: expected a table such as { hours = -1 }, got " .. type(amounts), 2)
  end
  for key in pairs(amounts) do
    local known = false
    for _, unit in ipairs(UNITS) do
      known = known or key == unit
    end
    if not known then
      error(string.format("clock:add: unknown unit %q (use days, hours, minutes, seconds)",
        tostring(key)), 2)
    end
  end
  for _, unit in ipairs(UNITS) do
    local amount = amounts[unit]
    if amount ~= nil then
      if math.type(amount) ~= "integer" then
        local whole = type(amount) == "number" and math.tointeger(amount)
        if not whole then
          error(string.format("clock:add: %s must be a whole number, got %s", unit,
            tostring(amount)), 2)
        end
        amount = whole
      end
      epoch = primitive.add(epoch, amount, unit)
    end
  end
  return clock.from_epoch(epoch)
end

-- Formats the clock with a strftime pattern, in UTC.
function methods:format(pattern)
  local epoch = epoch_of(self, "format")
  if type(pattern) ~= "string" then
    error("clock:format: expected a pattern string such as \"%Y-%m-%d\", got " .. type(pattern), 2)
  end
  return primitive.format(epoch, pattern)
end

-- Seconds since 1970-01-01T00:00:00Z.
function methods:epoch()
  return epoch_of(self, "epoch")
end

-- "YYYY-MM-DDTHH:MM:SSZ"
function methods:iso()
  return primitive.iso(epoch_of(self, "iso"))
end

return clock
