-- Athena's functions, as the translator writes them for SQLite.
--
-- Each scalar function takes (translator, call node, scope) and returns { sql =, type = };
-- aggregates return the SQLite aggregate's name, argument SQL and result type so that
-- DISTINCT, FILTER and OVER can be put around them. The functions SQLite lacks are
-- registered in C by host.sqlite (sq_* names, regexp_*, approx_percentile, max_by, min_by).
local sqlite = require("host.sqlite")
local types = require("sq.sql.types")
local translate = require("sq.sql.translate")

local functions = {}

local VARCHAR, BIGINT, DOUBLE, BOOLEAN = types.VARCHAR, types.BIGINT, types.DOUBLE, types.BOOLEAN
local quote_string, as_json_value = translate.quote_string, translate.as_json_value
local any_agg = translate.any_agg

local F = {}      -- scalar functions
local AGG = {}    -- aggregate functions
local RANKING = { row_number = 0, rank = 0, dense_rank = 0, percent_rank = 0, cume_dist = 0,
                  ntile = 1, lag = 3, lead = 3, first_value = 1, last_value = 1, nth_value = 2 }

local function unsupported(self, node)
  self:fail(string.format("Function '%s' is not supported by the local engine", node.name),
    node.pos)
end

-- Translates the arguments (no lambdas), checking their number.
local function args(self, node, scope, min, max)
  local n = #node.args
  if n < min or n > (max or min) then
    local expected = max == min or not max and tostring(min)
      or (max == math.huge and min .. " or more" or min .. " to " .. max)
    self:fail(string.format("Function '%s' expects %s argument%s but got %d", node.name,
      expected, expected == "1" and "" or "s", n), node.pos)
  end
  local list = {}
  for i, arg in ipairs(node.args) do
    if arg.node == "lambda" then
      self:fail(string.format("Function '%s' does not take a lambda", node.name), arg.pos)
    end
    list[i] = self:expr(arg, scope)
  end
  return list
end

local function agg_of(list)
  return any_agg(table.unpack(list))
end

local function simple(sql_name, min, max, arg_types, result)
  return function(self, node, scope)
    local a = args(self, node, scope, min, max)
    local sqls = {}
    for i, e in ipairs(a) do
      if arg_types and arg_types[i] then
        self:expect_type(e, arg_types[i], string.format("Argument %d of %s", i, node.name),
          node.args[i].pos)
      end
      sqls[i] = e.sql
    end
    local t = type(result) == "function" and result(a) or result
    return { sql = string.format("%s(%s)", sql_name, table.concat(sqls, ", ")), type = t,
             agg = agg_of(a) }
  end
end

-- A literal time unit argument ('hour', 'day' ...), checked.
local UNITS = { millisecond = true, second = true, minute = true, hour = true, day = true,
                week = true, month = true, quarter = true, year = true }

local function unit_arg(self, node, e)
  local arg = node.args[1]
  if arg.node == "string" and not UNITS[arg.value:lower()] then
    self:fail(string.format("'%s' is not a valid time unit", arg.value), arg.pos)
  end
  self:expect_type(e, "varchar", "The unit of " .. node.name, arg.pos)
  if arg.node == "string" then
    return quote_string(arg.value:lower())
  end
  return "lower(" .. e.sql .. ")"
end

local function time_arg(self, node, e, i)
  self:expect_type(e, "timestamp timestamptz date", string.format("Argument %d of %s", i,
    node.name), node.args[i].pos)
end

---------------------------------------------------------------------------
-- Strings
---------------------------------------------------------------------------

F.lower = simple("lower", 1, 1, { "varchar" }, VARCHAR)
F.upper = simple("upper", 1, 1, { "varchar" }, VARCHAR)
F.length = simple("length", 1, 1, { "varchar" }, BIGINT)
F.trim = simple("trim", 1, 1, { "varchar" }, VARCHAR)
F.ltrim = simple("ltrim", 1, 1, { "varchar" }, VARCHAR)
F.rtrim = simple("rtrim", 1, 1, { "varchar" }, VARCHAR)
F.reverse = simple("sq_reverse", 1, 1, { "varchar" }, VARCHAR)
F.lpad = simple("sq_lpad", 3, 3, { "varchar", "bigint", "varchar" }, VARCHAR)
F.rpad = simple("sq_rpad", 3, 3, { "varchar", "bigint", "varchar" }, VARCHAR)
F.substr = simple("sq_substr", 2, 3, { "varchar", "bigint", "bigint" }, VARCHAR)
F.substring = F.substr
F.strpos = simple("instr", 2, 2, { "varchar", "varchar" }, BIGINT)
F.split_part = simple("sq_split_part", 3, 3, { "varchar", "varchar", "bigint" }, VARCHAR)
F.split = simple("sq_split", 2, 3, { "varchar", "varchar", "bigint" }, types.array(VARCHAR))
F.chr = simple("char", 1, 1, { "bigint" }, VARCHAR)
F.codepoint = simple("unicode", 1, 1, { "varchar" }, BIGINT)

F.replace = function(self, node, scope)
  local a = args(self, node, scope, 2, 3)
  for i, e in ipairs(a) do
    self:expect_type(e, "varchar", "Argument " .. i .. " of replace", node.args[i].pos)
  end
  return { sql = string.format("replace(%s, %s, %s)", a[1].sql, a[2].sql, a[3] and a[3].sql
    or "''"), type = VARCHAR, agg = agg_of(a) }
end

F.starts_with = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  self:expect_type(a[1], "varchar", "Argument 1 of starts_with", node.args[1].pos)
  self:expect_type(a[2], "varchar", "Argument 2 of starts_with", node.args[2].pos)
  return { sql = string.format("(substr(%s, 1, length(%s)) = %s)", a[1].sql, a[2].sql, a[2].sql),
           type = BOOLEAN, agg = agg_of(a) }
end

F.concat = function(self, node, scope)
  local a = args(self, node, scope, 1, math.huge)
  for _, e in ipairs(a) do
    if e.type.kind == "array" then
      return self:concat_arrays(a, node.pos)
    end
  end
  local sqls = {}
  for i, e in ipairs(a) do
    self:expect_type(e, "varchar", "Argument " .. i .. " of concat", node.args[i].pos)
    sqls[i] = e.sql
  end
  return { sql = "(" .. table.concat(sqls, " || ") .. ")", type = VARCHAR, agg = agg_of(a) }
end

---------------------------------------------------------------------------
-- Regular expressions (Java syntax, compiled in C)
---------------------------------------------------------------------------

-- A literal pattern is checked here, so that a refusal names its position.
local function regex(name, min, max, arg_types, result)
  local translate_call = simple(name, min, max, arg_types, result)
  return function(self, node, scope)
    local pattern = node.args[2]
    if pattern and pattern.node == "string" then
      local err = sqlite.check_regex(pattern.value)
      if err then
        self:fail(err, pattern.pos)
      end
    end
    return translate_call(self, node, scope)
  end
end

F.regexp_like = regex("regexp_like", 2, 2, { "varchar", "varchar" }, BOOLEAN)
F.regexp_extract = regex("regexp_extract", 2, 3, { "varchar", "varchar", "bigint" }, VARCHAR)
F.regexp_extract_all = regex("regexp_extract_all", 2, 3, { "varchar", "varchar", "bigint" },
  types.array(VARCHAR))
F.regexp_replace = regex("regexp_replace", 2, 3, { "varchar", "varchar", "varchar" }, VARCHAR)

---------------------------------------------------------------------------
-- Conditionals and types
---------------------------------------------------------------------------

F.coalesce = function(self, node, scope)
  local a = args(self, node, scope, 1, math.huge)
  local t = self:unify(a, "All COALESCE operands", node.pos)
  if #a == 1 then
    return a[1]
  end
  local sqls = {}
  for i, e in ipairs(a) do
    sqls[i] = e.sql
  end
  return { sql = "coalesce(" .. table.concat(sqls, ", ") .. ")", type = t, agg = agg_of(a) }
end

F.nullif = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  local x, y = self:comparable(a[1], a[2], "=", node.pos)
  return { sql = string.format("nullif(%s, %s)", x.sql, y.sql), type = a[1].type, agg = agg_of(a) }
end

F["if"] = function(self, node, scope)
  local a = args(self, node, scope, 2, 3)
  self:expect_type(a[1], "boolean", "The condition of if", node.args[1].pos)
  local results = { a[2], a[3] }
  local t = self:unify(results, "Both results of if", node.pos)
  local sql = "CASE WHEN " .. translate.bare(a[1].sql) .. " THEN " .. results[1].sql
  if results[2] then
    sql = sql .. " ELSE " .. results[2].sql
  end
  return { sql = sql .. " END", type = t, agg = agg_of(a) }
end

F.greatest = function(self, node, scope)
  local a = args(self, node, scope, 2, math.huge)
  local t = self:unify(a, "All arguments of " .. node.name, node.pos)
  local sqls = {}
  for i, e in ipairs(a) do
    sqls[i] = e.sql
  end
  return { sql = string.format("%s(%s)", node.name == "greatest" and "max" or "min",
    table.concat(sqls, ", ")), type = t, agg = agg_of(a) }
end
F.least = F.greatest

F.typeof = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  return { sql = quote_string(types.name(a[1].type)), type = VARCHAR }
end

-- TODO(local-engine): try() cannot turn an error into NULL in SQLite; it passes through.
F.try = function(self, node, scope)
  return args(self, node, scope, 1, 1)[1]
end

---------------------------------------------------------------------------
-- Numbers
---------------------------------------------------------------------------

local function numeric(name, sql_name, result)
  return function(self, node, scope)
    local a = args(self, node, scope, 1, 1)
    self:expect_type(a[1], "bigint double", "The argument of " .. name, node.args[1].pos)
    return { sql = string.format("%s(%s)", sql_name, a[1].sql), type = result or a[1].type,
             agg = a[1].agg }
  end
end

F.abs = numeric("abs", "abs")
F.ceil = numeric("ceil", "ceil")
F.ceiling = F.ceil
F.floor = numeric("floor", "floor")
F.truncate = numeric("truncate", "trunc")
F.sign = numeric("sign", "sign")
-- A function whose NaN result host.sqlite fails on (SQLite has no NaN): where it is, for the
-- message.
local function may_be_nan(name, f)
  return function(self, node, scope)
    self:site("a NaN result (" .. name .. "(", node.pos)
    return f(self, node, scope)
  end
end

F.sqrt = may_be_nan("sqrt", numeric("sqrt", "sq_sqrt", DOUBLE))
F.exp = numeric("exp", "exp", DOUBLE)
F.ln = may_be_nan("ln", numeric("ln", "sq_ln", DOUBLE))
F.log10 = may_be_nan("log10", numeric("log10", "sq_log10", DOUBLE))
F.log2 = may_be_nan("log2", numeric("log2", "sq_log2", DOUBLE))
F.power = may_be_nan("power", simple("sq_power", 2, 2, { "bigint double", "bigint double" },
  DOUBLE))
F.pow = F.power

F.pi = function()
  return { sql = "pi()", type = DOUBLE }
end

F.round = function(self, node, scope)
  local a = args(self, node, scope, 1, 2)
  self:expect_type(a[1], "bigint double", "The argument of round", node.args[1].pos)
  if a[1].type.kind == "bigint" then
    return a[1]
  end
  local sql = a[2] and string.format("round(%s, %s)", a[1].sql, a[2].sql)
    or string.format("round(%s)", a[1].sql)
  return { sql = sql, type = DOUBLE, agg = agg_of(a) }
end

F.mod = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  self:expect_type(a[1], "bigint double", "Argument 1 of mod", node.args[1].pos)
  self:expect_type(a[2], "bigint double", "Argument 2 of mod", node.args[2].pos)
  if a[1].type.kind == "bigint" and a[2].type.kind == "bigint" then
    return { sql = string.format("(%s %% sq_nonzero(%s))", a[1].sql, a[2].sql), type = BIGINT,
             agg = agg_of(a) }
  end
  return { sql = string.format("mod(%s, %s)", a[1].sql, a[2].sql), type = DOUBLE, agg = agg_of(a) }
end

---------------------------------------------------------------------------
-- Dates and times (UTC only; the clock is the execution's)
---------------------------------------------------------------------------

F.now = function(self, node, scope)
  args(self, node, scope, 0, 0)
  return self:expr({ node = "current", what = "current_timestamp", pos = node.pos }, scope)
end

F.current_timezone = function(self, node, scope)
  args(self, node, scope, 0, 0)
  return { sql = "'UTC'", type = VARCHAR }
end

F.from_iso8601_timestamp = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  self:expect_type(a[1], "varchar", "The argument of from_iso8601_timestamp", node.args[1].pos)
  self:site("a time zone offset", node.pos)
  return { sql = string.format("sq_cast_ts(%s, 3)", a[1].sql), type = types.TIMESTAMPTZ,
           agg = a[1].agg }
end

F.from_iso8601_date = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  self:expect_type(a[1], "varchar", "The argument of from_iso8601_date", node.args[1].pos)
  return { sql = string.format("sq_cast_date(%s, 3)", a[1].sql), type = types.DATE,
           agg = a[1].agg }
end

F.to_iso8601 = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  time_arg(self, node, a[1], 1)
  return { sql = string.format("sq_to_iso8601(%s, %d)", a[1].sql,
    a[1].type.kind == "timestamptz" and 1 or 0), type = VARCHAR, agg = a[1].agg }
end

F.from_unixtime = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  self:expect_type(a[1], "bigint double", "The argument of from_unixtime", node.args[1].pos)
  return { sql = string.format("sq_from_unixtime(%s)", a[1].sql), type = types.TIMESTAMPTZ,
           agg = a[1].agg }
end

F.to_unixtime = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  time_arg(self, node, a[1], 1)
  return { sql = string.format("sq_to_unixtime(%s)", self:coerce(a[1], types.TIMESTAMP).sql),
           type = DOUBLE, agg = a[1].agg }
end

F.date_parse = simple("sq_date_parse", 2, 2, { "varchar", "varchar" }, types.TIMESTAMP)

F.date_format = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  time_arg(self, node, a[1], 1)
  self:expect_type(a[2], "varchar", "The format of date_format", node.args[2].pos)
  return { sql = string.format("sq_date_format(%s, %s)", a[1].sql, a[2].sql), type = VARCHAR,
           agg = agg_of(a) }
end

F.format_datetime = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  time_arg(self, node, a[1], 1)
  self:expect_type(a[2], "varchar", "The format of format_datetime", node.args[2].pos)
  return { sql = string.format("sq_format_datetime(%s, %s)", a[1].sql, a[2].sql), type = VARCHAR,
           agg = agg_of(a) }
end

F.date_trunc = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  local unit = unit_arg(self, node, a[1])
  time_arg(self, node, a[2], 2)
  return { sql = string.format("sq_ts_trunc(%s, %s)", unit, a[2].sql), type = a[2].type,
           agg = agg_of(a) }
end

F.date_add = function(self, node, scope)
  local a = args(self, node, scope, 3, 3)
  local unit = unit_arg(self, node, a[1])
  self:expect_type(a[2], "bigint", "The amount of date_add", node.args[2].pos)
  time_arg(self, node, a[3], 3)
  return { sql = string.format("sq_ts_add(%s, %s, %s)", unit, a[2].sql, a[3].sql),
           type = a[3].type, agg = agg_of(a) }
end

F.date_diff = function(self, node, scope)
  local a = args(self, node, scope, 3, 3)
  local unit = unit_arg(self, node, a[1])
  time_arg(self, node, a[2], 2)
  time_arg(self, node, a[3], 3)
  local x, y = self:comparable(a[2], a[3], "date_diff", node.pos)
  return { sql = string.format("sq_ts_diff(%s, %s, %s)", unit, x.sql, y.sql), type = BIGINT,
           agg = agg_of(a) }
end

F.date = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  return self:cast(a[1], types.DATE, false, node.pos)
end

F.last_day_of_month = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  time_arg(self, node, a[1], 1)
  return { sql = string.format("substr(sq_ts_add('day', -1, sq_ts_add('month', 1, "
    .. "sq_ts_trunc('month', %s))), 1, 10)", a[1].sql), type = types.DATE, agg = a[1].agg }
end

for _, field in ipairs({ "year", "quarter", "month", "week", "day", "hour", "minute", "second",
                         "millisecond", "day_of_week", "day_of_year", "year_of_week" }) do
  F[field] = function(self, node, scope)
    local a = args(self, node, scope, 1, 1)
    time_arg(self, node, a[1], 1)
    return { sql = string.format("sq_ts_part('%s', %s)", field, a[1].sql), type = BIGINT,
             agg = a[1].agg }
  end
end
F.day_of_month = F.day
F.dow = F.day_of_week
F.doy = F.day_of_year
F.week_of_year = F.week
F.yow = F.year_of_week

---------------------------------------------------------------------------
-- JSON
---------------------------------------------------------------------------

local function json_source(self, node, e)
  self:expect_type(e, "varchar json", "The JSON argument of " .. node.name, node.args[1].pos)
end

F.json_extract_scalar = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  json_source(self, node, a[1])
  return { sql = string.format("sq_json_scalar(%s, %s)", a[1].sql, a[2].sql), type = VARCHAR,
           agg = agg_of(a) }
end

F.json_extract = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  json_source(self, node, a[1])
  return { sql = string.format("sq_json_extract(%s, %s)", a[1].sql, a[2].sql), type = types.JSON,
           agg = agg_of(a) }
end

F.json_parse = simple("sq_json_parse", 1, 1, { "varchar" }, types.JSON)

F.json_format = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  self:expect_type(a[1], "json", "The argument of json_format", node.args[1].pos)
  return { sql = a[1].sql, type = VARCHAR, agg = a[1].agg }
end

F.json_size = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  json_source(self, node, a[1])
  return { sql = string.format("sq_json_size(%s, %s)", a[1].sql, a[2].sql), type = BIGINT,
           agg = agg_of(a) }
end

F.json_array_length = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  json_source(self, node, a[1])
  return { sql = string.format("CASE WHEN json_valid(%s) AND json_type(%s) = 'array' THEN "
    .. "json_array_length(%s) END", a[1].sql, a[1].sql, a[1].sql), type = BIGINT, agg = a[1].agg }
end

F.json_array_get = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  json_source(self, node, a[1])
  self:expect_type(a[2], "bigint", "The index of json_array_get", node.args[2].pos)
  return { sql = string.format("sq_json_extract(%s, '$[' || %s || ']')", a[1].sql, a[2].sql),
           type = types.JSON, agg = agg_of(a) }
end

F.json_array_contains = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  json_source(self, node, a[1])
  return { sql = string.format("CASE WHEN json_valid(%s) THEN EXISTS (SELECT 1 FROM json_each(%s) "
    .. "WHERE value = %s) END", a[1].sql, a[1].sql, a[2].sql), type = BOOLEAN, agg = agg_of(a) }
end

F.is_json_scalar = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  json_source(self, node, a[1])
  return { sql = string.format("(json_type(%s) NOT IN ('object', 'array'))", a[1].sql),
           type = BOOLEAN, agg = a[1].agg }
end

---------------------------------------------------------------------------
-- Arrays and maps (JSON text in SQLite)
---------------------------------------------------------------------------

local function container(self, node, e, kinds)
  self:expect_type(e, kinds, "The first argument of " .. node.name, node.args[1].pos)
end

-- (SELECT ... FROM json_each(a) AS alias ...), NULL when a is NULL.
local function over_elements(a, alias, body)
  return string.format("CASE WHEN %s IS NULL THEN NULL ELSE (%s) END", a, body:gsub("%%EACH%%",
    function()
      return string.format("json_each(%s) AS %s", a, alias)
    end))
end

F.cardinality = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "array map")
  if a[1].type.kind == "array" then
    return { sql = string.format("json_array_length(%s)", a[1].sql), type = BIGINT, agg = a[1].agg }
  end
  return { sql = over_elements(a[1].sql, '"_e"', "SELECT count(*) FROM %EACH%"), type = BIGINT,
           agg = a[1].agg }
end

F.element_at = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  local t = a[1].type
  container(self, node, a[1], "array map")
  if t.kind == "map" then
    return { sql = over_elements(a[1].sql, '"_e"', "SELECT value FROM %EACH% WHERE key = "
      .. a[2].sql), type = t.value, agg = agg_of(a) }
  end
  self:expect_type(a[2], "bigint", "The index of element_at", node.args[2].pos)
  local index = node.args[2]
  if index.node == "number" or (index.node == "negate" and index.expr.node == "number") then
    local i = index.node == "number" and tonumber(index.value) or -tonumber(index.expr.value)
    if i == 0 then
      self:fail("SQL array indices start at 1", index.pos)
    end
    local path = i > 0 and string.format("$[%d]", i - 1) or string.format("$[#%d]", i)
    return { sql = string.format("json_extract(%s, '%s')", a[1].sql, path), type = t.element,
             agg = a[1].agg }
  end
  return { sql = string.format("json_extract(%s, CASE WHEN %s > 0 THEN '$[' || (%s - 1) || ']' "
    .. "ELSE '$[#' || %s || ']' END)", a[1].sql, a[2].sql, a[2].sql, a[2].sql), type = t.element,
    agg = agg_of(a) }
end

-- Over the elements (%EACH%): `yes` where the condition holds for one, else NULL where it is
-- NULL for one (a NULL element), else `no`; Trino's three-valued contains and *_match.
local function some(condition, yes, no)
  return string.format("SELECT CASE WHEN max(%s) THEN %s WHEN max((%s) IS NULL) THEN NULL ELSE "
    .. "%s END FROM %%EACH%%", translate.bare(condition), yes, translate.bare(condition), no)
end

F.contains = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  container(self, node, a[1], "array")
  self:comparable(a[2], { sql = "x", type = a[1].type.element }, "contains", node.pos)
  return { sql = over_elements(a[1].sql, '"_e"', some('"_e".value = ' .. a[2].sql, 1, 0)),
           type = BOOLEAN, agg = agg_of(a) }
end

F.array_position = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', "SELECT coalesce(min(\"_e\".key) + 1, 0) FROM "
    .. '%EACH% WHERE "_e".value = ' .. a[2].sql), type = BIGINT, agg = agg_of(a) }
end

F.array_join = function(self, node, scope)
  local a = args(self, node, scope, 2, 3)
  container(self, node, a[1], "array")
  self:expect_type(a[2], "varchar", "The separator of array_join", node.args[2].pos)
  local value = '"_e".value'
  if a[1].type.element.kind == "boolean" then
    value = "CASE \"_e\".value WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
  end
  if a[3] then
    value = string.format("coalesce(%s, %s)", value, a[3].sql)
  end
  return { sql = over_elements(a[1].sql, '"_e"', string.format("SELECT coalesce(group_concat(%s, "
    .. "%s), '') FROM %%EACH%%", value, a[2].sql)), type = VARCHAR, agg = agg_of(a) }
end

local function rebuild(self, node, scope, inner)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', "SELECT json_group_array(value) FROM ("
    .. inner .. ")"), type = a[1].type, agg = a[1].agg }
end

F.array_distinct = function(self, node, scope)
  return rebuild(self, node, scope, 'SELECT DISTINCT "_e".value AS value FROM %EACH% ORDER BY '
    .. '"_e".key')
end

F.array_sort = function(self, node, scope)
  if node.args[2] then
    self:fail("array_sort with a comparator is not supported by the local engine", node.args[2].pos)
  end
  return rebuild(self, node, scope, 'SELECT "_e".value AS value FROM %EACH% ORDER BY "_e".value '
    .. "NULLS LAST")
end

F.array_max = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', 'SELECT CASE WHEN count(*) > count("_e".value) '
    .. 'THEN NULL ELSE max("_e".value) END FROM %EACH%'),
           type = a[1].type.element, agg = a[1].agg }
end

F.array_min = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', 'SELECT CASE WHEN count(*) > count("_e".value) '
    .. 'THEN NULL ELSE min("_e".value) END FROM %EACH%'),
           type = a[1].type.element, agg = a[1].agg }
end

F.array_remove = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', 'SELECT json_group_array("_e".value) FROM '
    .. '%EACH% WHERE "_e".value IS NOT ' .. a[2].sql), type = a[1].type, agg = agg_of(a) }
end

F.slice = function(self, node, scope)
  local a = args(self, node, scope, 3, 3)
  container(self, node, a[1], "array")
  return { sql = over_elements(a[1].sql, '"_e"', string.format('SELECT json_group_array("_e".value)'
    .. ' FROM %%EACH%% WHERE "_e".key >= (CASE WHEN %s > 0 THEN %s - 1 ELSE json_array_length(%s) '
    .. '+ %s END) AND "_e".key < (CASE WHEN %s > 0 THEN %s - 1 ELSE json_array_length(%s) + %s '
    .. "END) + %s", a[2].sql, a[2].sql, a[1].sql, a[2].sql, a[2].sql, a[2].sql, a[1].sql, a[2].sql,
    a[3].sql)), type = a[1].type, agg = agg_of(a) }
end

-- Two arrays of comparable elements.
local function two_arrays(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  container(self, node, a[1], "array")
  self:expect_type(a[2], "array", "The second argument of " .. node.name, node.args[2].pos)
  local t = translate.common_type(a[1].type, a[2].type)
  if not t then
    self:fail(string.format("Function '%s' needs arrays of one type, not %s and %s", node.name,
      types.name(a[1].type), types.name(a[2].type)), node.pos)
  end
  return a, t
end

-- The distinct elements of `a` in first-seen order, kept where `condition` holds for them
-- against the elements of `b` ("_f" is the element of a, "_s" those of b).
local function set_operation(a, b, condition)
  return string.format("CASE WHEN %s IS NULL OR %s IS NULL THEN NULL ELSE (SELECT "
    .. "json_group_array(v) FROM (SELECT \"_f\".value AS v, min(\"_f\".key) AS k FROM "
    .. "json_each(%s) AS \"_f\" WHERE %s GROUP BY \"_f\".value ORDER BY k)) END", a, b, a,
    condition)
end

F.arrays_overlap = function(self, node, scope)
  local a = two_arrays(self, node, scope)
  return { sql = string.format("CASE WHEN %s IS NULL OR %s IS NULL THEN NULL ELSE EXISTS "
    .. "(SELECT 1 FROM json_each(%s) AS \"_f\" JOIN json_each(%s) AS \"_s\" ON \"_f\".value = "
    .. "\"_s\".value) END", a[1].sql, a[2].sql, a[1].sql, a[2].sql), type = BOOLEAN,
    agg = agg_of(a) }
end

F.array_intersect = function(self, node, scope)
  local a, t = two_arrays(self, node, scope)
  return { sql = set_operation(a[1].sql, a[2].sql, string.format("EXISTS (SELECT 1 FROM "
    .. "json_each(%s) AS \"_s\" WHERE \"_s\".value = \"_f\".value)", a[2].sql)), type = t,
    agg = agg_of(a) }
end

F.array_except = function(self, node, scope)
  local a, t = two_arrays(self, node, scope)
  return { sql = set_operation(a[1].sql, a[2].sql, string.format("NOT EXISTS (SELECT 1 FROM "
    .. "json_each(%s) AS \"_s\" WHERE \"_s\".value IS \"_f\".value)", a[2].sql)), type = t,
    agg = agg_of(a) }
end

F.array_union = function(self, node, scope)
  local a, t = two_arrays(self, node, scope)
  local both = self:concat_arrays({ a[1], a[2] }, node.pos)
  return { sql = set_operation(both.sql, both.sql, "1"), type = t, agg = agg_of(a) }
end

F.map_keys = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "map")
  return { sql = over_elements(a[1].sql, '"_e"', 'SELECT json_group_array("_e".key) FROM %EACH%'),
           type = types.array(a[1].type.key), agg = a[1].agg }
end

F.map_values = function(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  container(self, node, a[1], "map")
  return { sql = over_elements(a[1].sql, '"_e"', 'SELECT json_group_array("_e".value) FROM '
    .. "%EACH%"), type = types.array(a[1].type.value), agg = a[1].agg }
end

-- The lambda argument of a higher-order function, bound to the elements of `alias`.
local function lambda(self, node, scope, position, element, alias)
  local l = node.args[position]
  if not l or l.node ~= "lambda" then
    self:fail(string.format("Function '%s' expects a lambda as argument %d", node.name, position),
      (l or node).pos)
  end
  if #l.params ~= 1 then
    self:fail(string.format("Function '%s' expects a lambda of one parameter", node.name), l.pos)
  end
  local inner = { parent = scope, relations = {}, ctes = {}, lambdas = {} }
  inner.lambdas[l.params[1]] = { sql = alias .. ".value", type = element }
  local body = self:expr(l.body, inner)
  if body.agg then
    self:fail("a lambda cannot contain an aggregation", l.pos)
  end
  return body
end

local function higher_order(self, node, scope, build)
  if #node.args ~= 2 then
    self:fail(string.format("Function '%s' expects 2 arguments but got %d", node.name,
      #node.args), node.pos)
  end
  local arr = self:expr(node.args[1], scope)
  container(self, node, arr, "array")
  local alias = '"' .. self:alias("_l") .. '"'
  local body = lambda(self, node, scope, 2, arr.type.element, alias)
  local sql, t = build(alias, body, arr)
  return { sql = over_elements(arr.sql, alias, sql), type = t, agg = arr.agg }
end

F.transform = function(self, node, scope)
  return higher_order(self, node, scope, function(_, body)
    return "SELECT json_group_array(" .. as_json_value(body) .. ") FROM %EACH%",
      types.array(body.type)
  end)
end

F.filter = function(self, node, scope)
  return higher_order(self, node, scope, function(alias, body, arr)
    self:expect_type(body, "boolean", "The lambda of filter", node.args[2].pos)
    return string.format("SELECT json_group_array(%s.value) FROM %%EACH%% WHERE %s", alias,
      translate.bare(body.sql)), arr.type
  end)
end

F.any_match = function(self, node, scope)
  return higher_order(self, node, scope, function(_, body)
    self:expect_type(body, "boolean", "The lambda of any_match", node.args[2].pos)
    return some(body.sql, 1, 0), BOOLEAN
  end)
end

F.all_match = function(self, node, scope)
  return higher_order(self, node, scope, function(_, body)
    self:expect_type(body, "boolean", "The lambda of all_match", node.args[2].pos)
    return some("(NOT " .. body.sql .. ")", 0, 1), BOOLEAN
  end)
end

F.none_match = function(self, node, scope)
  return higher_order(self, node, scope, function(_, body)
    self:expect_type(body, "boolean", "The lambda of none_match", node.args[2].pos)
    return some(body.sql, 0, 1), BOOLEAN
  end)
end

---------------------------------------------------------------------------
-- Aggregates: each returns the SQLite function, its argument SQL and the result type
---------------------------------------------------------------------------

local function one_arg(self, node, scope)
  local a = args(self, node, scope, 1, 1)
  if a[1].agg then
    self:fail("Cannot nest aggregations inside aggregation '" .. node.name .. "'", node.pos)
  end
  return a[1]
end

AGG.count = function(self, node, scope)
  if node.star then
    return "count", "*", BIGINT
  end
  return "count", one_arg(self, node, scope).sql, BIGINT
end

AGG.count_if = function(self, node, scope)
  local e = one_arg(self, node, scope)
  self:expect_type(e, "boolean", "The argument of count_if", node.args[1].pos)
  return "count", "CASE WHEN " .. translate.bare(e.sql) .. " THEN 1 END", BIGINT
end

AGG.sum = function(self, node, scope)
  local e = one_arg(self, node, scope)
  self:expect_type(e, "bigint double", "The argument of sum", node.args[1].pos)
  return "sum", e.sql, e.type
end

AGG.avg = function(self, node, scope)
  local e = one_arg(self, node, scope)
  self:expect_type(e, "bigint double", "The argument of avg", node.args[1].pos)
  return "avg", e.sql, DOUBLE
end

AGG.min = function(self, node, scope)
  local e = one_arg(self, node, scope)
  return "min", e.sql, e.type
end

AGG.max = function(self, node, scope)
  local e = one_arg(self, node, scope)
  return "max", e.sql, e.type
end

-- Any value of the group; the least one is as good as any.
AGG.arbitrary = AGG.min
AGG.any_value = AGG.min

AGG.bool_and = function(self, node, scope)
  local e = one_arg(self, node, scope)
  self:expect_type(e, "boolean", "The argument of " .. node.name, node.args[1].pos)
  return "min", e.sql, BOOLEAN
end
AGG.every = AGG.bool_and

AGG.bool_or = function(self, node, scope)
  local e = one_arg(self, node, scope)
  self:expect_type(e, "boolean", "The argument of bool_or", node.args[1].pos)
  return "max", e.sql, BOOLEAN
end

AGG.approx_distinct = function(self, node, scope)
  local a = args(self, node, scope, 1, 2)
  -- exact: Athena's estimate is exact for the small counts of detections
  return "count", "DISTINCT " .. a[1].sql, BIGINT
end

AGG.approx_percentile = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  self:expect_type(a[1], "bigint double", "The value of approx_percentile", node.args[1].pos)
  self:expect_type(a[2], "double", "The percentage of approx_percentile", node.args[2].pos)
  return "approx_percentile", { a[1].sql, a[2].sql }, a[1].type
end

AGG.array_agg = function(self, node, scope)
  local e = one_arg(self, node, scope)
  return "json_group_array", as_json_value(e), types.array(e.type)
end

AGG.map_agg = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  return "json_group_object", { a[1].sql, as_json_value(a[2]) },
    types.map(a[1].type, a[2].type)
end

AGG.max_by = function(self, node, scope)
  local a = args(self, node, scope, 2, 2)
  return "sq_" .. node.name, { a[1].sql, a[2].sql }, a[1].type
end
AGG.min_by = AGG.max_by

function functions.is_aggregate(name)
  return AGG[name] ~= nil
end

local function window_spec(self, window, scope)
  local parts = {}
  if window.partition_by then
    local sqls = {}
    for i, p in ipairs(window.partition_by) do
      sqls[i] = self:expr(p, scope).sql
    end
    parts[#parts + 1] = "PARTITION BY " .. table.concat(sqls, ", ")
  end
  if window.order_by then
    local sqls = {}
    for i, item in ipairs(window.order_by) do
      sqls[i] = self:expr(item.expr, scope).sql .. (item.desc and " DESC" or "")
        .. (item.nulls == "first" and " NULLS FIRST" or " NULLS LAST")
    end
    parts[#parts + 1] = "ORDER BY " .. table.concat(sqls, ", ")
  end
  if window.frame then
    parts[#parts + 1] = window.frame
  end
  return "OVER (" .. table.concat(parts, " ") .. ")"
end

local function aggregate(self, node, scope)
  local name, arg_sql, t = AGG[node.name](self, node, scope)
  local distinct = node.distinct and "DISTINCT " or ""
  if node.distinct and type(arg_sql) == "table" and #arg_sql > 1 then
    self:fail("DISTINCT with several arguments is not supported by the local engine", node.pos)
  end
  if type(arg_sql) == "table" then
    arg_sql = table.concat(arg_sql, ", ")
  end
  local sql = string.format("%s(%s%s)", name, distinct, arg_sql)
  if node.filter then
    local filter = self:expr(node.filter, scope)
    self:expect_type(filter, "boolean", "A FILTER clause", node.filter.pos)
    sql = sql .. " FILTER (WHERE " .. translate.bare(filter.sql) .. ")"
  end
  if node.over then
    return { sql = sql .. " " .. window_spec(self, node.over, scope), type = t }
  end
  if name == "approx_percentile" and t.kind == "bigint" then
    sql = "CAST(round(" .. sql .. ") AS INTEGER)"
  elseif name == "json_group_array" or name == "json_group_object" then
    -- Athena gives NULL, not an empty array, for no rows
    sql = string.format("nullif(%s, '%s')", sql, name == "json_group_array" and "[]" or "{}")
  end
  return { sql = sql, type = t, agg = true }
end

local function ranking(self, node, scope)
  if not node.over then
    self:fail(string.format("Window function '%s' requires an OVER clause", node.name), node.pos)
  end
  local a = args(self, node, scope, 0, RANKING[node.name])
  local sqls = {}
  for i, e in ipairs(a) do
    sqls[i] = e.sql
  end
  local t = BIGINT
  if node.name == "percent_rank" or node.name == "cume_dist" then
    t = DOUBLE
  elseif #a > 0 and node.name ~= "ntile" then
    t = a[1].type
  end
  return { sql = string.format("%s(%s) %s", node.name, table.concat(sqls, ", "),
    window_spec(self, node.over, scope)), type = t }
end

function functions.call(self, node, scope)
  local name = node.name
  if RANKING[name] then
    return ranking(self, node, scope)
  end
  if AGG[name] then
    return aggregate(self, node, scope)
  end
  local f = F[name]
  if not f then
    unsupported(self, node)
  end
  if node.over then
    self:fail(string.format("'%s' is not a window function", name), node.pos)
  end
  if node.distinct or node.filter or node.star then
    self:fail(string.format("DISTINCT, FILTER and * are only allowed in aggregates, not in '%s'",
      name), node.pos)
  end
  return f(self, node, scope)
end

return functions
