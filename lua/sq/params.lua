-- Query parameters: the built-ins, their datehour aliases, and the values of
-- a query's parameters for one execution clock.
--
-- Built-ins (all from the execution's clock, in UTC):
--   utcdatehour                 2020-02-13-22   (the dt partition format)
--   utcdatehour_minusNhour      N hours earlier, any N >= 1
--   utcdatehour_minusNday       N days earlier
--   utcdate                     2020-02-13
--   utcdate_minusNday           N days earlier
--   utctimestamp                1581631580      (epoch seconds)
--   utctimestamp_minusNhour     N hours earlier (utctimestamp_minus1hour ...)
--   utctimestamp_minusNday      N days earlier
--   utcisotime                  2020-02-13T22:06:20Z
-- "datehour..." is accepted for "utcdatehour..." (the reference document
-- writes {datehour}); canonical() says which name a spelling stands for.
local params = {}

local DATEHOUR = "%Y-%m-%d-%H"
local DATE = "%Y-%m-%d"

-- The families: a base name, the units it may go back in, and how a
-- clock becomes its value.
local FAMILIES = {
  utcdatehour = { units = { hour = "hours", day = "days" },
                  value = function(c) return c:format(DATEHOUR) end },
  utcdate = { units = { day = "days" },
              value = function(c) return c:format(DATE) end },
  utctimestamp = { units = { hour = "hours", day = "days" },
                   value = function(c) return tostring(c:epoch()) end },
  utcisotime = { units = {},
                 value = function(c) return c:iso() end },
}

-- The longest N accepted in a _minusN family name (six digits: more than
-- two thousand years of days).
local MAX_DIGITS = 6

-- Splits a built-in name into its family and how far back it goes.
-- Returns family, amount, unit (unit nil when the name has no _minus
-- part), or nil when the name is not a built-in.
local function parse_builtin(name)
  if type(name) ~= "string" then
    return nil
  end
  local family = FAMILIES[name]
  if family then
    return family, 0, nil
  end
  local base, digits, unit = name:match("^([a-z]+)_minus([1-9]%d*)([a-z]+)$")
  family = base and FAMILIES[base]
  if family == nil or #digits > MAX_DIGITS or family.units[unit] == nil then
    return nil
  end
  return family, math.tointeger(tonumber(digits)), family.units[unit]
end

-- True when name (canonical spelling) is a built-in parameter.
function params.is_builtin(name)
  return parse_builtin(name) ~= nil
end

-- The canonical spelling of a parameter name and whether the name was an
-- alias: canonical("datehour_minus1hour") --> "utcdatehour_minus1hour", true.
function params.canonical(name)
  if type(name) == "string" and name:match("^datehour") then
    local canonical = "utc" .. name
    if parse_builtin(canonical) then
      return canonical, true
    end
  end
  return name, false
end

-- The value of a built-in for a clock, as a string; raises on an unknown name.
function params.builtin(name, c)
  local family, amount, unit = parse_builtin(params.canonical(name))
  if family == nil then
    error(string.format("unknown built-in parameter %q", tostring(name)), 2)
  end
  if unit then
    c = c:add { [unit] = -amount }
  end
  return family.value(c)
end

-- Turns what a calculator returned into the string that goes into the SQL.
-- Returns the string, or nil and what was wrong.
function params.to_text(value)
  local kind = type(value)
  if kind == "string" then
    return value
  end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return nil, "returned " .. tostring(value) .. ", which is not a usable number"
    end
    local whole = math.tointeger(value)
    if whole then
      return string.format("%d", whole)
    end
    return string.format("%.14g", value)
  end
  return nil, "returned " .. (kind == "nil" and "nothing" or "a " .. kind)
    .. "; a parameter must be a string or a number"
end

-- Computes every parameter of a query for the clock c.
-- Returns values (name -> string), or nil and a message that names the
-- query, its file and line, and the parameter.
function params.compute(query, c)
  local values = {}
  for _, param in ipairs(query.params or {}) do
    local value, err
    if param.fn then
      local ok, result = pcall(param.fn, c)
      if ok then
        value, err = params.to_text(result)
      else
        err = tostring(result)
      end
    else
      local ok, result = pcall(params.builtin, param.source or param.name, c)
      if ok then
        value = result
      else
        err = tostring(result)
      end
    end
    if value == nil then
      return nil, string.format("%s:%s: query %s: parameter %s: %s", tostring(query.file),
        tostring(query.line), tostring(query.name), param.name, err)
    end
    values[param.name] = value
  end
  return values
end

return params
