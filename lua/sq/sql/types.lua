-- Athena's types, as the translator and the local engine see them.
--
-- A type is a table { kind = ... }: "varchar", "bigint", "double", "boolean", "timestamp",
-- "timestamptz" (timestamp with time zone), "date", "json", "interval_ds" (milliseconds),
-- "interval_ym" (months), "unknown" (the type of NULL), { kind = "array", element = T },
-- { kind = "map", key = K, value = V } and { kind = "struct", fields = { { name =, type = } } }.
--
-- In SQLite, timestamps are text 'YYYY-MM-DD HH:MM:SS.mmm' in UTC, dates 'YYYY-MM-DD',
-- booleans 0 or 1, and arrays, maps and structs JSON text. types.render turns those back
-- into the strings Athena's GetQueryResults returns.
local sqlite = require("host.sqlite")

local types = {}

local function scalar(kind)
  return { kind = kind }
end

types.VARCHAR = scalar("varchar")
types.BIGINT = scalar("bigint")
types.DOUBLE = scalar("double")
types.BOOLEAN = scalar("boolean")
types.TIMESTAMP = scalar("timestamp")
types.TIMESTAMPTZ = scalar("timestamptz")
types.DATE = scalar("date")
types.JSON = scalar("json")
types.INTERVAL_DS = scalar("interval_ds")
types.INTERVAL_YM = scalar("interval_ym")
types.UNKNOWN = scalar("unknown")

function types.array(element)
  return { kind = "array", element = element }
end

function types.map(key, value)
  return { kind = "map", key = key, value = value }
end

function types.struct(fields)
  return { kind = "struct", fields = fields }
end

-- Names of scalar types, as DDL and CAST write them.
local SCALARS = {
  string = types.VARCHAR, varchar = types.VARCHAR, char = types.VARCHAR,
  bigint = types.BIGINT, int = types.BIGINT, integer = types.BIGINT,
  smallint = types.BIGINT, tinyint = types.BIGINT,
  double = types.DOUBLE, float = types.DOUBLE, real = types.DOUBLE, decimal = types.DOUBLE,
  boolean = types.BOOLEAN,
  timestamp = types.TIMESTAMP, ["timestamp with time zone"] = types.TIMESTAMPTZ,
  date = types.DATE, json = types.JSON,
}

-- A type from the parser's type node { name =, params = }. Returns nil, message.
function types.from_node(node)
  local name = node.name
  if SCALARS[name] then
    return SCALARS[name]
  end
  local params = node.params or {}
  if name == "array" and #params == 1 and params[1].type then
    local element, err = types.from_node(params[1].type)
    return element and types.array(element), err
  elseif name == "map" and #params == 2 and params[1].type and params[2].type then
    local key, err = types.from_node(params[1].type)
    if not key then
      return nil, err
    end
    local value
    value, err = types.from_node(params[2].type)
    return value and types.map(key, value), err
  elseif (name == "row" or name == "struct") and #params > 0 then
    local fields = {}
    for i, param in ipairs(params) do
      if not (param.name and param.type) then
        return nil, "a ROW type needs a name for every field"
      end
      local t, err = types.from_node(param.type)
      if not t then
        return nil, err
      end
      fields[i] = { name = param.name:lower(), type = t }
    end
    return types.struct(fields)
  end
  return nil, string.format("type %s is not supported by the local engine", name:upper())
end

-- Parses a DDL type string: "string", "array<struct<arn:string,type:string>>",
-- "map<string,string>", "row(a varchar)". Returns the type, or nil and a message.
function types.parse(text)
  local pos = 1
  local function skip()
    pos = text:find("[^%s]", pos) or #text + 1
  end
  local parse
  local function word()
    skip()
    local w = text:match("^[%a_][%w_]*", pos)
    if w then
      pos = pos + #w
      return w:lower()
    end
  end
  local function expect(chars)
    skip()
    local c = text:sub(pos, pos)
    if not chars:find(c, 1, true) or c == "" then
      error(string.format("expected %s at position %d", chars, pos), 0)
    end
    pos = pos + 1
    return c
  end
  function parse()
    local name = word()
    if not name then
      error(string.format("expected a type name at position %d", pos), 0)
    end
    skip()
    if name == "timestamp" and text:match("^with%s+time%s+zone", pos) then
      pos = pos + #text:match("^with%s+time%s+zone", pos)
      return types.TIMESTAMPTZ
    end
    if name == "array" then
      local close = expect("<(") == "<" and ">" or ")"
      local element = parse()
      expect(close)
      return types.array(element)
    elseif name == "map" then
      local close = expect("<(") == "<" and ">" or ")"
      local key = parse()
      expect(",")
      local value = parse()
      expect(close)
      return types.map(key, value)
    elseif name == "struct" or name == "row" then
      local close = expect("<(") == "<" and ">" or ")"
      local fields = {}
      repeat
        skip()
        local field = text:match('^"([^"]+)"', pos)
        if field then
          pos = pos + #field + 2
        else
          field = word()
        end
        if not field then
          error(string.format("expected a field name at position %d", pos), 0)
        end
        skip()
        if text:sub(pos, pos) == ":" then
          pos = pos + 1
        end
        fields[#fields + 1] = { name = field:lower(), type = parse() }
        skip()
        local c = text:sub(pos, pos)
        if c == "," then
          pos = pos + 1
        end
      until c ~= ","
      expect(close)
      return types.struct(fields)
    end
    if text:sub(pos, pos) == "(" then -- varchar(10), decimal(10,2)
      local close = text:find(")", pos, true)
      if not close then
        error("unclosed parenthesis", 0)
      end
      pos = close + 1
    end
    if not SCALARS[name] then
      error(string.format("unknown type %q", name), 0)
    end
    return SCALARS[name]
  end
  local ok, result = pcall(function()
    local t = parse()
    skip()
    if pos <= #text then
      error(string.format("unexpected %q at position %d", text:sub(pos, pos), pos), 0)
    end
    return t
  end)
  if ok then
    return result
  end
  return nil, string.format("invalid type %q: %s", text, result)
end

-- The type's name as Athena spells it (typeof, messages).
function types.name(t)
  local kind = t.kind
  if kind == "array" then
    return "array(" .. types.name(t.element) .. ")"
  elseif kind == "map" then
    return "map(" .. types.name(t.key) .. ", " .. types.name(t.value) .. ")"
  elseif kind == "struct" then
    local parts = {}
    for i, field in ipairs(t.fields) do
      parts[i] = field.name .. " " .. types.name(field.type)
    end
    return "row(" .. table.concat(parts, ", ") .. ")"
  end
  return ({ timestamp = "timestamp(3)", timestamptz = "timestamp(3) with time zone",
            interval_ds = "interval day to second", interval_ym = "interval year to month" })[kind]
    or kind
end

function types.equal(a, b)
  return types.name(a) == types.name(b)
end

function types.is_numeric(t)
  return t.kind == "bigint" or t.kind == "double"
end

function types.is_time(t)
  return t.kind == "timestamp" or t.kind == "timestamptz" or t.kind == "date"
end

-- Arrays, maps, structs and JSON are JSON text in SQLite.
function types.is_json(t)
  return t.kind == "array" or t.kind == "map" or t.kind == "struct" or t.kind == "json"
end

-- The column affinity to declare in SQLite.
function types.affinity(t)
  local kind = t.kind
  if kind == "bigint" or kind == "boolean" then
    return "INTEGER"
  elseif kind == "double" then
    return "REAL"
  end
  return "TEXT"
end

-- The type as host.sqlite's loader takes it.
function types.shape(t)
  local kind = t.kind
  if kind == "array" then
    return { kind = "array", element = types.shape(t.element) }
  elseif kind == "map" then
    return { kind = "map", value = types.shape(t.value) }
  elseif kind == "struct" then
    local fields = {}
    for i, field in ipairs(t.fields) do
      fields[i] = { name = field.name, type = types.shape(field.type) }
    end
    return { kind = "struct", fields = fields }
  elseif kind == "timestamptz" then
    return { kind = "timestamp" }
  elseif kind == "varchar" or kind == "bigint" or kind == "double" or kind == "boolean"
    or kind == "timestamp" or kind == "date" then
    return { kind = kind }
  end
  return { kind = "json" }
end

---------------------------------------------------------------------------
-- Rendering values the way Athena's GetQueryResults does
---------------------------------------------------------------------------

local NULL = {}

-- An order-keeping JSON reader: objects become { keys = {...}, values = {...} }, numbers
-- keep their text as { number = "..." }, null becomes NULL.
local function decode(text)
  local pos = 1
  local value
  local function ws()
    pos = text:find("[^ \t\r\n]", pos) or #text + 1
  end
  local function str()
    local parts = {}
    pos = pos + 1
    while true do
      local run_end = text:find('["\\]', pos)
      if not run_end then
        error("bad JSON string")
      end
      parts[#parts + 1] = text:sub(pos, run_end - 1)
      if text:sub(run_end, run_end) == '"' then
        pos = run_end + 1
        return table.concat(parts)
      end
      local e = text:sub(run_end + 1, run_end + 1)
      local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
      if e == "u" then
        local cp = tonumber(text:sub(run_end + 2, run_end + 5), 16)
        pos = run_end + 6
        if cp >= 0xD800 and cp < 0xDC00 and text:sub(pos, pos + 1) == "\\u" then
          local low = tonumber(text:sub(pos + 2, pos + 5), 16)
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
          pos = pos + 6
        end
        parts[#parts + 1] = utf8.char(cp)
      else
        parts[#parts + 1] = simple[e] or e
        pos = run_end + 2
      end
    end
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local object = { keys = {}, values = {} }
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "}" then
        pos = pos + 1
        return object
      end
      repeat
        ws()
        local key = str()
        ws()
        pos = pos + 1 -- ':'
        object.keys[#object.keys + 1] = key
        object.values[#object.keys] = value()
        ws()
        c = text:sub(pos, pos)
        pos = pos + 1
      until c ~= ","
      return object
    elseif c == "[" then
      local array = { n = 0 }
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "]" then
        pos = pos + 1
        return array
      end
      repeat
        array.n = array.n + 1
        array[array.n] = value()
        ws()
        c = text:sub(pos, pos)
        pos = pos + 1
      until c ~= ","
      return array
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then
      pos = pos + 4
      return true
    elseif text:sub(pos, pos + 4) == "false" then
      pos = pos + 5
      return false
    elseif text:sub(pos, pos + 3) == "null" then
      pos = pos + 4
      return NULL
    end
    local infinity = text:match("^-?Inf", pos) -- SQLite's JSON for an infinite double
    if infinity then
      pos = pos + #infinity
      return { number = infinity:gsub("Inf", "1e999") }
    end
    local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not number then
      error("bad JSON")
    end
    pos = pos + #number
    return { number = number }
  end
  return value()
end

local function encode(v)
  if v == NULL then
    return "null"
  elseif type(v) == "boolean" then
    return tostring(v)
  elseif type(v) == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" })[c]
        or string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif v.number then
    return v.number
  elseif v.keys then
    local parts = {}
    for i, key in ipairs(v.keys) do
      parts[i] = encode(key) .. ":" .. encode(v.values[i])
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local parts = {}
  for i = 1, v.n do
    parts[i] = encode(v[i])
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

local function format_interval_ds(ms)
  local sign = ms < 0 and "-" or ""
  ms = math.abs(ms)
  return string.format("%s%d %02d:%02d:%02d.%03d", sign, ms // 86400000, ms // 3600000 % 24,
    ms // 60000 % 60, ms // 1000 % 60, ms % 1000)
end

local function as_number(v)
  if type(v) == "table" and v.number then
    return tonumber(v.number)
  end
  return tonumber(v)
end

-- Renders a decoded JSON value of type t (inside an array, map or struct).
local function render_nested(v, t)
  if v == NULL or v == nil then
    return "null"
  end
  local kind = t.kind
  if kind == "array" then
    if type(v) ~= "table" or not v.n then
      return encode(v)
    end
    local parts = {}
    for i = 1, v.n do
      parts[i] = render_nested(v[i], t.element)
    end
    return "[" .. table.concat(parts, ", ") .. "]"
  elseif kind == "map" then
    if type(v) ~= "table" or not v.keys then
      return encode(v)
    end
    local parts = {}
    for i, key in ipairs(v.keys) do
      parts[i] = render_nested(key, t.key) .. "=" .. render_nested(v.values[i], t.value)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif kind == "struct" then
    if type(v) ~= "table" or not v.keys then
      return encode(v)
    end
    local by_name = {}
    for i, key in ipairs(v.keys) do
      by_name[key:lower()] = v.values[i]
    end
    local parts = {}
    for i, field in ipairs(t.fields) do
      parts[i] = field.name .. "=" .. render_nested(by_name[field.name], field.type)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  elseif kind == "json" then
    return encode(v)
  elseif kind == "boolean" then
    if type(v) == "boolean" then
      return tostring(v)
    end
    local n = as_number(v)
    return n and (n ~= 0 and "true" or "false") or tostring(v)
  elseif kind == "bigint" then
    local n = as_number(v)
    if not n then
      return tostring(v)
    end
    local i = math.tointeger(n) or math.tointeger(math.floor(n + 0.5))
    return i and string.format("%d", i) or sqlite.format_double(n) -- never a crash
  elseif kind == "double" then
    local n = as_number(v)
    return n and sqlite.format_double(n) or tostring(v)
  elseif kind == "timestamptz" and type(v) == "string" then
    return v .. " UTC"
  elseif kind == "interval_ds" then
    local n = as_number(v)
    return n and format_interval_ds(math.tointeger(n) or math.floor(n)) or tostring(v)
  end
  if type(v) == "table" then
    if v.number then
      return v.number
    end
    return encode(v)
  end
  return tostring(v)
end

-- Renders one SQLite value of type t as Athena's text; NULL stays `null`.
function types.render(value, t, null)
  if value == null or value == nil then
    return null
  end
  local kind = t.kind
  if kind == "array" or kind == "map" or kind == "struct" then
    if type(value) ~= "string" then
      return tostring(value)
    end
    local ok, decoded = pcall(decode, value)
    if not ok then
      return value
    end
    return render_nested(decoded, t)
  elseif kind == "varchar" or kind == "json" or kind == "timestamp" or kind == "date"
    or kind == "unknown" then
    if type(value) == "number" then
      return math.type(value) == "integer" and string.format("%d", value)
        or sqlite.format_double(value)
    end
    return value
  elseif kind == "interval_ym" then
    local months = math.tointeger(value) or 0
    local sign = months < 0 and "-" or ""
    months = math.abs(months)
    return string.format("%s%d-%d", sign, months // 12, months % 12)
  end
  return render_nested(value, t)
end

return types
