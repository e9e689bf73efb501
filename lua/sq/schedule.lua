-- EventBridge schedule expressions: rate(value unit) and the six-field
-- cron(minutes hours day-of-month month day-of-week year).
--
--   schedule.validate(expr)  --> true | nil, message
--
-- The rules are those of EventBridge scheduled rules, so that a pack that
-- validates here is not refused later by Terraform. Every message quotes the
-- expression and names the field at fault.
local schedule = {}

local MONTHS = {
  JAN = 1, FEB = 2, MAR = 3, APR = 4, MAY = 5, JUN = 6,
  JUL = 7, AUG = 8, SEP = 9, OCT = 10, NOV = 11, DEC = 12,
}

local DAYS = { SUN = 1, MON = 2, TUE = 3, WED = 4, THU = 5, FRI = 6, SAT = 7 }

-- The six cron fields in order. step_max bounds the increment after "/".
local FIELDS = {
  { name = "minutes", min = 0, max = 59, step_max = 59 },
  { name = "hours", min = 0, max = 23, step_max = 23 },
  { name = "day-of-month", min = 1, max = 31, step_max = 31, any = true },
  { name = "month", min = 1, max = 12, step_max = 12, names = MONTHS, noun = "month",
    hint = "1-12 or JAN-DEC" },
  { name = "day-of-week", min = 1, max = 7, names = DAYS, noun = "day", any = true,
    hint = "1-7 or SUN-SAT" },
  { name = "year", min = 1970, max = 2199, step_max = 229, no_wrap = true },
}

local FIELD_LIST = "minutes hours day-of-month month day-of-week year"

local RATE_UNITS = {
  minute = "singular", hour = "singular", day = "singular",
  minutes = "plural", hours = "plural", days = "plural",
}


-- The values a field accepts, as a user would write them.
local function range_text(field)
  return field.hint or string.format("%d-%d", field.min, field.max)
end


-- Reads one value of a field: a number in range or, where the field has
-- them, a month or day name. Returns the number, or nil and a message (the
-- message is nil when the token is not a value at all).
local function parse_value(token, field)
  if token:match("^%d+$") then
    local n = tonumber(token)
    if n < field.min or n > field.max then
      return nil, string.format("%s is out of range %s", token, range_text(field))
    end
    return n
  end
  if token:match("^%a+$") and field.names then
    local up = token:upper()
    if field.names[up] then
      return field.names[up]
    end
    if up:find("[LW]") and not up:find("[^LW]") then
      return nil -- a special character, explained by the caller
    end
    if up:match("L$") and field.names[up:sub(1, -2)] then
      return nil
    end
    return nil, string.format("%s is not a %s name: use %s", token, field.noun, range_text(field))
  end
  return nil
end


-- Says what is wrong with a list item that did not parse, from the special
-- characters it holds and the field they appear in.
local function explain(item, field)
  item = item:upper()
  if item:find("?", 1, true) then
    if field.any then
      return "? stands alone: it cannot be part of a list, range or step"
    end
    return "? is only allowed in day-of-month and day-of-week"
  end
  if item:find("#", 1, true) then
    if field.name == "day-of-week" then
      return "# stands alone, as in 3#2: it cannot be part of a list, range or step"
    end
    return "# is only allowed in day-of-week"
  end
  local residual = item
  for word in item:gmatch("%a+") do
    if field.names and field.names[word] then
      residual = residual:gsub(word, "", 1)
    elseif MONTHS[word] or DAYS[word] then
      return string.format("%s is a name; names are only allowed in month (JAN-DEC)"
        .. " and day-of-week (SUN-SAT)", word)
    end
  end
  if residual:find("W", 1, true) then
    if field.name == "day-of-month" then
      return "W goes after a single day, as in 15W, or in LW: it cannot be part of a list,"
        .. " range or step"
    end
    return "W is only allowed in day-of-month"
  end
  if residual:find("L", 1, true) then
    if field.name == "day-of-month" then
      return "L stands alone (or as LW): it cannot be part of a list, range or step"
    elseif field.name == "day-of-week" then
      return "L stands alone or after a single day, as in 6L: it cannot be part of a list,"
        .. " range or step"
    end
    return "L is only allowed in day-of-month and day-of-week"
  end
  if field.step_max then
    return string.format("expected *, a value %s, a range a-b, a list a,b or a step a/b",
      range_text(field))
  end
  return string.format("expected *, a value %s, a range a-b or a list a,b", range_text(field))
end


-- Checks one item of a comma-separated list: *, a value, a range a-b, each
-- optionally followed by a step /n. Returns true, or nil and a message (nil
-- when the item is not understood at all).
local function parse_item(item, field)
  if item == "" then
    return nil, "an item of the list is empty"
  end
  local base, step = item:match("^([^/]*)/(.*)$")
  if base then
    if not field.step_max then
      return nil, "a step (/) is not allowed in " .. field.name
    end
    if not step:match("^%d+$") or tonumber(step) < 1 or tonumber(step) > field.step_max then
      return nil, string.format("the step after / must be a whole number 1-%d, got %s",
        field.step_max, step == "" and "nothing" or step)
    end
    item = base
  end
  if item == "*" then
    return true
  end
  local first_text, last_text = item:match("^([^-]*)%-(.*)$")
  if first_text then
    local first, err = parse_value(first_text, field)
    if not first then
      return nil, err
    end
    local last
    last, err = parse_value(last_text, field)
    if not last then
      return nil, err
    end
    if last < first and field.no_wrap then
      return nil, string.format("the range %s runs backwards", item)
    end
    return true
  end
  local value, err = parse_value(item, field)
  if not value then
    return nil, err
  end
  return true
end


-- The forms that stand alone in day-of-month (L, LW, nW) and in day-of-week
-- (L, nL, n#k). Returns true when text is one of them, nil when it is not,
-- or false and a message when it is one of them but wrong.
local function parse_special(text, field)
  local up = text:upper()
  if field.name == "day-of-month" then
    if up == "L" or up == "LW" then
      return true
    end
    local day = up:match("^(%d+)W$")
    if day then
      local ok, err = parse_value(day, field)
      if not ok then
        return false, err
      end
      return true
    end
  elseif field.name == "day-of-week" then
    if up == "L" then
      return true
    end
    if text:find("#", 1, true) then
      if text:find(",", 1, true) then
        return false, "# allows a single expression in day-of-week, not a list"
      end
      local day, nth = text:match("^([^#]*)#(.*)$")
      if day == "" then
        return false, string.format("expected a day %s before #", range_text(field))
      end
      local ok, err = parse_value(day, field)
      if not ok then
        return false, err or string.format("expected a day %s before #", range_text(field))
      end
      if not nth:match("^[1-5]$") then
        return false, string.format("the occurrence after # must be 1-5, got %s",
          nth == "" and "nothing" or nth)
      end
      return true
    end
    local day = up:match("^%w+L$") and text:sub(1, -2)
    if day then
      local ok, err = parse_value(day, field)
      if ok then
        return true
      elseif err and day:match("^%d+$") then
        return false, err
      end
    end
  end
  return nil
end


-- Checks one cron field. Returns true, or nil and a message.
local function parse_field(text, field)
  if text == "?" then
    if field.any then
      return true
    end
    return nil, "? is only allowed in day-of-month and day-of-week"
  end
  local special, err = parse_special(text, field)
  if special then
    return true
  elseif special == false then
    return nil, err
  end
  for item in (text .. ","):gmatch("([^,]*),") do
    local ok, detail = parse_item(item, field)
    if not ok then
      return nil, detail or explain(item, field)
    end
  end
  return true
end


-- Splits a string on white space.
local function words(text)
  local list = {}
  for word in text:gmatch("%S+") do
    list[#list + 1] = word
  end
  return list
end


-- Checks six cron fields; returns true or nil and a message about expr.
local function check_fields(expr, fields)
  for i, field in ipairs(FIELDS) do
    local ok, err = parse_field(fields[i], field)
    if not ok then
      return nil, string.format('%s: %s "%s": %s', expr, field.name, fields[i], err)
    end
  end
  local dom_any, dow_any = fields[3] == "?", fields[5] == "?"
  if dom_any and dow_any then
    return nil, string.format("%s: day-of-month and day-of-week are both ?: one of them must be"
      .. " a value or *: did you mean cron(%s %s * %s ? %s)?",
      expr, fields[1], fields[2], fields[4], fields[6])
  end
  if not dom_any and not dow_any then
    local message = string.format("%s: one of day-of-month and day-of-week must be ?"
      .. " (EventBridge cannot combine a day of the month with a day of the week)", expr)
    local hint
    if fields[5] == "*" then
      hint = { fields[1], fields[2], fields[3], fields[4], "?", fields[6] }
    elseif fields[3] == "*" then
      hint = { fields[1], fields[2], "?", fields[4], fields[5], fields[6] }
    end
    if hint then
      message = message .. string.format(": did you mean cron(%s)?", table.concat(hint, " "))
    end
    return nil, message
  end
  return true
end


-- Turns a Unix day-of-week (0-7, 0 and 7 both Sunday) into EventBridge's
-- numbering (1-7, 1 Sunday); names stay as they are.
local function unix_weekdays(text)
  return (text:gsub("%d+", function(digits)
    return tostring(tonumber(digits) % 7 + 1)
  end))
end


-- For a field count other than six, a six-field expression the user most
-- likely meant (Unix cron without year, Quartz with seconds), or nil.
local function guess_six_fields(fields)
  local candidates = {}
  if #fields == 5 then
    local minute, hour, dom, month, dow = table.unpack(fields)
    if dow == "*" or dow == "?" then
      candidates[1] = { minute, hour, dom, month, "?", "*" }
      candidates[2] = { minute, hour, dom, month, "*", "*" }
    elseif dom == "*" or dom == "?" then
      candidates[1] = { minute, hour, "?", month, unix_weekdays(dow), "*" }
    end
  elseif #fields == 7 then
    candidates[1] = { table.unpack(fields, 2, 7) }
  end
  for _, candidate in ipairs(candidates) do
    if check_fields("", candidate) then
      return "cron(" .. table.concat(candidate, " ") .. ")"
    end
  end
  return nil
end


-- Checks the body of cron(...).
local function validate_cron(expr, body)
  local fields = words(body)
  if #fields ~= 6 then
    local message = string.format("%s has %d field%s; EventBridge needs 6 (%s)", expr, #fields,
      #fields == 1 and "" or "s", FIELD_LIST)
    local guess = guess_six_fields(fields)
    if guess then
      message = message .. ": did you mean " .. guess .. "?"
    end
    return nil, message
  end
  return check_fields(expr, fields)
end


-- Checks the body of rate(...).
local function validate_rate(expr, body)
  local value, unit = body:match("^(%S+) (%S+)$")
  if not value then
    return nil, expr .. ": expected rate(value unit) with one space between them,"
      .. " for example rate(5 minutes)"
  end
  if value:match("^[+-]") then
    return nil, string.format("%s: the value must be a positive integer without a sign, got %s",
      expr, value)
  end
  if not value:match("^%d+$") or not value:find("[1-9]") then
    return nil, string.format("%s: the value must be a positive integer, got %s", expr, value)
  end
  if value:match("^0") then
    local plain = value:gsub("^0+", "")
    return nil, string.format("%s: the value must not start with 0: rate(%s %s)", expr, plain,
      unit)
  end
  local number = RATE_UNITS[unit]
  if not number then
    if RATE_UNITS[unit:lower()] then
      return nil, string.format("%s: the unit must be lower case: rate(%s %s)", expr, value,
        unit:lower())
    end
    return nil, string.format('%s: unknown unit "%s": use minute(s), hour(s) or day(s)',
      expr, unit)
  end
  if value == "1" and number == "plural" then
    return nil, string.format("%s: use the singular unit for 1: rate(1 %s)", expr,
      unit:sub(1, -2))
  end
  if value ~= "1" and number == "singular" then
    return nil, string.format("%s: use the plural unit for %s: rate(%s %ss)", expr, value, value,
      unit)
  end
  return true
end


-- Checks an EventBridge schedule expression.
function schedule.validate(expr)
  if type(expr) ~= "string" then
    return nil, string.format("a schedule expression must be a string such as rate(1 hour),"
      .. " got %s", type(expr))
  end
  local kind, body = expr:match("^(%a+)%((.*)%)$")
  if kind == "rate" then
    return validate_rate(expr, body)
  elseif kind == "cron" then
    return validate_cron(expr, body)
  end
  local usage = "use rate(value unit) or cron(" .. FIELD_LIST .. ")"
  if expr:match("^%s") or expr:match("%s$") then
    return nil, string.format('"%s": remove the white space around the expression', expr)
  end
  if kind and (kind:lower() == "rate" or kind:lower() == "cron") then
    return nil, string.format('%s: write "%s" in lower case', expr, kind:lower())
  end
  if expr:match("^rate%(") or expr:match("^cron%(") then
    return nil, expr .. ": the closing parenthesis is missing"
  end
  return nil, string.format('"%s" is not an EventBridge schedule expression: %s', expr, usage)
end


return schedule
