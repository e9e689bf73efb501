-- Translates Athena (Trino) SQL into SQLite SQL for the local engine.
--
--   translate.translate(text, env) -> { sql =, columns = { { name =, type = } } }
--                                     or nil, { message =, pos =, line =, column = }
--   env.clock    epoch seconds of the execution clock (now(), current_date ...)
--   env.catalog  function(parts, pos) -> { sql = '"name"', columns = { { name =, type = } } }
--                or nil, message; parts is the table name as written ({ "db", "table" })
--
-- Every column reference is resolved here and every expression gets a type (sq.sql.types),
-- so that values come back rendered as Athena renders them, struct paths become JSON paths,
-- and Trino's semantics hold where SQLite's differ (NULLs sort last, LIKE is case-sensitive
-- through the database's pragma, casts round and check). What cannot be translated
-- faithfully is an error that names the construct and its position.
-- luacheck: ignore 212/self
local lexer = require("sq.sql.lexer")
local parser = require("sq.sql.parser")
local types = require("sq.sql.types")
local sqlite = require("host.sqlite")

local translate = {}

local T = {}
T.__index = T

local VARCHAR, BIGINT, DOUBLE, BOOLEAN = types.VARCHAR, types.BIGINT, types.DOUBLE, types.BOOLEAN
local UNKNOWN = types.UNKNOWN

local function fail(message, pos)
  error({ message = message, pos = pos }, 0)
end
T.fail = function(_, message, pos)
  fail(message, pos)
end

local function quote_name(name)
  return '"' .. name:gsub('"', '""') .. '"'
end
translate.quote_name = quote_name

local function quote_string(s)
  return "'" .. s:gsub("'", "''") .. "'"
end
translate.quote_string = quote_string

-- Removes one pair of parentheses around a whole expression.
local function bare(sql)
  if sql:sub(1, 1) ~= "(" or sql:sub(-1) ~= ")" then
    return sql
  end
  local depth, in_string = 0, false
  for i = 1, #sql do
    local c = sql:sub(i, i)
    if c == "'" then
      in_string = not in_string
    elseif not in_string then
      if c == "(" then
        depth = depth + 1
      elseif c == ")" then
        depth = depth - 1
        if depth == 0 and i < #sql then
          return sql
        end
      end
    end
  end
  return sql:sub(2, -2)
end
translate.bare = bare

-- A JSON path step for a struct field or map key.
local function path_step(name)
  if name:match("^[%a_][%w_]*$") then
    return "." .. name
  end
  if name:find('"', 1, true) then
    return nil
  end
  return '."' .. name .. '"'
end

-- Remembers where a construct is that can fail as not supported only while the query runs
-- (`kind` begins host.sqlite's message), so that the error can say where it is.
function T:site(kind, pos)
  self.sites[#self.sites + 1] = { kind = kind, pos = pos }
end

function T:alias(prefix)
  self.counter = self.counter + 1
  return prefix .. self.counter
end

---------------------------------------------------------------------------
-- Types: coercion as Trino does it implicitly
---------------------------------------------------------------------------

-- The type both a and b can be coerced to, or nil.
local function common_type(a, b)
  if a.kind == "unknown" then
    return b
  elseif b.kind == "unknown" then
    return a
  elseif types.equal(a, b) then
    return a
  elseif types.is_numeric(a) and types.is_numeric(b) then
    return DOUBLE
  elseif types.is_time(a) and types.is_time(b) then
    if a.kind == "timestamptz" or b.kind == "timestamptz" then
      return types.TIMESTAMPTZ
    end
    return types.TIMESTAMP
  elseif a.kind == "array" and b.kind == "array" then
    local element = common_type(a.element, b.element)
    return element and types.array(element)
  elseif a.kind == b.kind and (a.kind == "map" or a.kind == "struct") then
    return a
  end
  return nil
end
translate.common_type = common_type

-- e coerced to type t (e is { sql =, type = }).
function T:coerce(e, t)
  if e.type.kind == "unknown" or types.equal(e.type, t) then
    return { sql = e.sql, type = t, agg = e.agg }
  end
  if e.type.kind == "date" and (t.kind == "timestamp" or t.kind == "timestamptz") then
    return { sql = "(" .. e.sql .. " || ' 00:00:00.000')", type = t, agg = e.agg }
  end
  return { sql = e.sql, type = t, agg = e.agg }
end

-- Coerces a list of expressions to their common type; `what` names them in errors.
function T:unify(list, what, pos)
  local t = UNKNOWN
  for _, e in ipairs(list) do
    local c = common_type(t, e.type)
    if not c then
      fail(string.format("%s must be of the same type: %s and %s", what, types.name(t),
        types.name(e.type)), pos)
    end
    t = c
  end
  for i, e in ipairs(list) do
    list[i] = self:coerce(e, t)
  end
  return t
end

function T:expect_type(e, kinds, what, pos)
  if e.type.kind == "unknown" then
    return
  end
  for kind in kinds:gmatch("%S+") do
    if e.type.kind == kind then
      return
    end
  end
  fail(string.format("%s must be %s, not %s", what, kinds:gsub(" ", " or "), types.name(e.type)),
    pos)
end

---------------------------------------------------------------------------
-- Scopes and names
---------------------------------------------------------------------------

local function new_scope(parent)
  return { parent = parent, relations = {}, ctes = {}, lambdas = {} }
end

local function find_column(relation, name)
  for _, column in ipairs(relation.columns) do
    if column.name == name then
      return column
    end
  end
end

-- Resolves a column reference (an identifier chain) to { sql =, type = } and the number of
-- parts it used; the rest are struct fields.
function T:resolve(scope, parts, pos, node)
  local level = 0
  local s = scope
  while s do
    local lambda = s.lambdas[parts[1]]
    if lambda then
      node._lambda = true
      return lambda, 1
    end
    if #parts >= 2 then
      for _, relation in ipairs(s.relations) do
        if relation.alias == parts[1] then
          local column = find_column(relation, parts[2])
          if not column then
            fail(string.format("Column '%s.%s' cannot be resolved", parts[1], parts[2]), pos)
          end
          node._outer = level > 0 or nil
          return column, 2
        end
      end
    end
    local found
    for _, relation in ipairs(s.relations) do
      local column = find_column(relation, parts[1])
      if column and not column.hidden then
        if found then
          fail(string.format("Column '%s' is ambiguous", parts[1]), pos)
        end
        found = column
      end
    end
    if found then
      node._outer = level > 0 or nil
      return found, 1
    end
    s = s.parent
    level = level + 1
  end
  if #parts >= 2 then
    fail(string.format("Column '%s' cannot be resolved", table.concat(parts, ".")), pos)
  end
  fail(string.format("Column '%s' cannot be resolved", parts[1]), pos)
end

-- Struct field access: e.f1.f2... becomes one json_extract with the whole path.
function T:dereference(e, fields, pos)
  local t, path = e.type, {}
  local base = e.sql
  if e.json_base then
    base, path = e.json_base, { table.unpack(e.json_path) }
  end
  for _, name in ipairs(fields) do
    if t.kind ~= "struct" then
      if t.kind == "map" then
        fail(string.format("Expression of type %s has no field '%s'; write a subscript: ['%s']",
          types.name(t), name, name), pos)
      end
      fail(string.format("Expression of type %s is not a ROW and has no field '%s'",
        types.name(t), name), pos)
    end
    local field
    for _, f in ipairs(t.fields) do
      if f.name == name then
        field = f
        break
      end
    end
    if not field then
      fail(string.format("Field '%s' not found in %s", name, types.name(t)), pos)
    end
    local step = path_step(name)
    if not step then
      fail(string.format("field name %q is not supported by the local engine", name), pos)
    end
    path[#path + 1] = step
    t = field.type
  end
  local sql = string.format("json_extract(%s, '$%s')", base, table.concat(path))
  return { sql = sql, type = t, agg = e.agg, json_base = base, json_path = path }
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

local EXPR = {}

function T:expr(node, scope)
  local handler = EXPR[node.node]
  if not handler then
    fail(string.format("%s is not supported by the local engine", node.node), node.pos)
  end
  local e = handler(self, node, scope)
  node._sql = e.sql
  return e
end

-- Every aggregate flag of the parts, for an expression built from them.
local function any_agg(...)
  for i = 1, select("#", ...) do
    local e = select(i, ...)
    if e and e.agg then
      return true
    end
  end
  return nil
end
translate.any_agg = any_agg

EXPR.number = function(_, node)
  if node.value:match("^%d+$") then
    if not math.tointeger(tonumber(node.value)) then
      fail("Invalid numeric literal: " .. node.value, node.pos)
    end
    return { sql = node.value, type = BIGINT }
  end
  local sql = node.value
  if sql:sub(1, 1) == "." then
    sql = "0" .. sql
  end
  return { sql = sql, type = DOUBLE }
end

EXPR.string = function(_, node)
  return { sql = quote_string(node.value), type = VARCHAR }
end

EXPR.boolean = function(_, node)
  return { sql = node.value and "TRUE" or "FALSE", type = BOOLEAN }
end

EXPR.null = function()
  return { sql = "NULL", type = UNKNOWN }
end

EXPR.column = function(self, node, scope)
  local base, used = self:resolve(scope, node.parts, node.pos, node)
  local e = { sql = base.sql, type = base.type }
  node._base_sql = base.sql
  if used < #node.parts then
    return self:dereference(e, { table.unpack(node.parts, used + 1) }, node.pos)
  end
  return e
end

EXPR.dereference = function(self, node, scope)
  return self:dereference(self:expr(node.expr, scope), { node.field }, node.pos)
end

EXPR.subscript = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  local index = self:expr(node.index, scope)
  local t = e.type
  if t.kind == "map" then
    if node.index.node == "string" and path_step(node.index.value) then
      return { sql = string.format("json_extract(%s, '$%s')", e.sql,
        path_step(node.index.value):gsub("'", "''")), type = t.value, agg = any_agg(e, index) }
    end
    return { sql = string.format("(SELECT value FROM json_each(%s) WHERE key = %s)", e.sql,
      index.sql), type = t.value, agg = any_agg(e, index) }
  elseif t.kind == "array" then
    self:expect_type(index, "bigint", "An array subscript", node.index.pos)
    if node.index.node == "number" then
      local i = tonumber(node.index.value)
      if i < 1 then
        fail("Array subscript must be at least 1", node.index.pos)
      end
      return { sql = string.format("json_extract(%s, '$[%d]')", e.sql, i - 1), type = t.element,
               agg = e.agg }
    end
    return { sql = string.format("json_extract(%s, '$[' || (%s - 1) || ']')", e.sql, index.sql),
             type = t.element, agg = any_agg(e, index) }
  elseif t.kind == "struct" and node.index.node == "number" then
    local field = t.fields[tonumber(node.index.value)]
    if not field then
      fail("Row subscript out of range", node.index.pos)
    end
    return self:dereference(e, { field.name }, node.pos)
  end
  fail(string.format("Cannot use a subscript on %s", types.name(t)), node.pos)
end

EXPR["not"] = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  self:expect_type(e, "boolean", "The operand of NOT", node.pos)
  return { sql = "(NOT " .. e.sql .. ")", type = BOOLEAN, agg = e.agg }
end

-- Comparable operands, coerced; raises Trino's error for mismatched types.
function T:comparable(a, b, op, pos)
  local t = common_type(a.type, b.type)
  if not t then
    fail(string.format("Cannot apply operator: %s %s %s", types.name(a.type), op,
      types.name(b.type)), pos)
  end
  return self:coerce(a, t), self:coerce(b, t)
end

EXPR.compare = function(self, node, scope)
  local a, b = self:expr(node.left, scope), self:expr(node.right, scope)
  a, b = self:comparable(a, b, node.op, node.pos)
  return { sql = string.format("(%s %s %s)", a.sql, node.op, b.sql), type = BOOLEAN,
           agg = any_agg(a, b) }
end

EXPR.isnull = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  return { sql = string.format("(%s IS %sNULL)", e.sql, node.negated and "NOT " or ""),
           type = BOOLEAN, agg = e.agg }
end

EXPR.is_bool = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  self:expect_type(e, "boolean", "The operand of IS " .. tostring(node.value):upper(), node.pos)
  return { sql = string.format("(%s IS %s%s)", e.sql, node.negated and "NOT " or "",
    node.value and "TRUE" or "FALSE"), type = BOOLEAN, agg = e.agg }
end

EXPR.distinct_from = function(self, node, scope)
  local a, b = self:expr(node.left, scope), self:expr(node.right, scope)
  a, b = self:comparable(a, b, "IS DISTINCT FROM", node.pos)
  return { sql = string.format("(%s %s %s)", a.sql, node.negated and "IS" or "IS NOT", b.sql),
           type = BOOLEAN, agg = any_agg(a, b) }
end

EXPR.between = function(self, node, scope)
  local list = { self:expr(node.expr, scope), self:expr(node.low, scope),
                 self:expr(node.high, scope) }
  local t = common_type(list[1].type, list[2].type)
  t = t and common_type(t, list[3].type)
  if not t then
    fail(string.format("Cannot check if %s is BETWEEN %s and %s", types.name(list[1].type),
      types.name(list[2].type), types.name(list[3].type)), node.pos)
  end
  for i, e in ipairs(list) do
    list[i] = self:coerce(e, t)
  end
  return { sql = string.format("(%s %sBETWEEN %s AND %s)", list[1].sql,
    node.negated and "NOT " or "", list[2].sql, list[3].sql), type = BOOLEAN,
    agg = any_agg(list[1], list[2], list[3]) }
end

EXPR["in"] = function(self, node, scope)
  local list = { self:expr(node.expr, scope) }
  for i, item in ipairs(node.list) do
    list[i + 1] = self:expr(item, scope)
  end
  local t = list[1].type
  for i = 2, #list do
    local c = common_type(t, list[i].type)
    if not c then
      fail(string.format("IN value and list items must be the same type: %s and %s",
        types.name(list[1].type), types.name(list[i].type)), node.list[i - 1].pos)
    end
    t = c
  end
  local sqls, agg = {}, nil
  for i, e in ipairs(list) do
    sqls[i] = self:coerce(e, t).sql
    agg = agg or e.agg
  end
  return { sql = string.format("(%s %sIN (%s))", sqls[1], node.negated and "NOT " or "",
    table.concat(sqls, ", ", 2)), type = BOOLEAN, agg = agg }
end

EXPR.in_query = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  local q = self:query(node.query, scope)
  if #q.columns ~= 1 then
    fail("Multiple columns returned by subquery are not yet supported", node.query.pos)
  end
  local probe = { sql = "x", type = q.columns[1].type }
  self:comparable(e, probe, "IN", node.pos)
  return { sql = string.format("(%s %sIN (%s))", e.sql, node.negated and "NOT " or "", q.sql),
           type = BOOLEAN, agg = e.agg }
end

EXPR.like = function(self, node, scope)
  local e, pattern = self:expr(node.expr, scope), self:expr(node.pattern, scope)
  self:expect_type(e, "varchar", "The left side of LIKE", node.expr.pos)
  self:expect_type(pattern, "varchar", "A LIKE pattern", node.pattern.pos)
  local sql = string.format("(%s %sLIKE %s", e.sql, node.negated and "NOT " or "", pattern.sql)
  local agg = any_agg(e, pattern)
  if node.escape then
    local escape = self:expr(node.escape, scope)
    self:expect_type(escape, "varchar", "A LIKE escape", node.escape.pos)
    if node.escape.node == "string" and utf8.len(node.escape.value) ~= 1 then
      fail("Escape string must be a single character", node.escape.pos)
    end
    sql = sql .. " ESCAPE " .. escape.sql
  end
  return { sql = sql .. ")", type = BOOLEAN, agg = agg }
end

-- Adds an interval (a literal, or an amount of a unit) to a timestamp or date.
function T:add_interval(time, interval, negate, pos)
  if not interval.interval then
    fail("only INTERVAL literals can be added to a timestamp in the local engine", pos)
  end
  local amount, unit = interval.interval.amount, interval.interval.unit
  if negate then
    amount = -amount
  end
  local t = time.type
  if t.kind == "date" and not (unit == "day" or unit == "month" or unit == "year") then
    t = types.TIMESTAMP
    time = self:coerce(time, t)
  end
  return { sql = string.format("sq_ts_add('%s', %d, %s)", unit, amount, time.sql), type = t,
           agg = any_agg(time, interval) }
end

local ARITHMETIC = { ["+"] = true, ["-"] = true, ["*"] = true, ["/"] = true, ["%"] = true }

-- SQLite functions of host.sqlite for bigint operators that fail on an overflow.
local CHECKED = { ["+"] = "sq_add", ["-"] = "sq_sub", ["*"] = "sq_mul" }

function T:arithmetic(node, a, b)
  local op = node.op
  local ta, tb = a.type.kind, b.type.kind
  if types.is_time(a.type) and (tb == "interval_ds" or tb == "interval_ym")
    and (op == "+" or op == "-") then
    return self:add_interval(a, b, op == "-", node.pos)
  end
  if types.is_time(b.type) and (ta == "interval_ds" or ta == "interval_ym") and op == "+" then
    return self:add_interval(b, a, false, node.pos)
  end
  if types.is_time(a.type) and types.is_time(b.type) and op == "-" then
    return { sql = string.format("CAST(round((sq_to_unixtime(%s) - sq_to_unixtime(%s)) * 1000) "
      .. "AS INTEGER)", a.sql, b.sql), type = types.INTERVAL_DS, agg = any_agg(a, b) }
  end
  if (ta == "unknown" or types.is_numeric(a.type)) and (tb == "unknown" or types.is_numeric(b.type))
  then
    local t = (ta == "double" or tb == "double") and DOUBLE or BIGINT
    if ta == "unknown" and tb == "unknown" then
      t = UNKNOWN
    end
    local sql = string.format("(%s %s %s)", a.sql, op, b.sql)
    local literal = node.right.node == "number" and tonumber(node.right.value) ~= 0
    if t == BIGINT and op == "/" and not literal then
      -- Trino raises on a division by zero (SQLite: NULL) and on MIN / -1 (SQLite: a double)
      sql = string.format("sq_div(%s, %s)", a.sql, b.sql)
    elseif t == BIGINT and CHECKED[op] then
      -- Trino raises on a bigint overflow where SQLite turns the result into a double
      sql = string.format("%s(%s, %s)", CHECKED[op], a.sql, b.sql)
    elseif t == DOUBLE and op == "/" then
      -- an infinity where SQLite gives NULL; NaN (0 / 0) fails
      self:site("a NaN result (", node.pos)
      sql = string.format("sq_fdiv(%s, %s)", a.sql, b.sql)
    elseif op == "%" and t == BIGINT and not literal then
      -- Trino raises on division by zero where SQLite gives NULL
      sql = string.format("(%s %s sq_nonzero(%s))", a.sql, op, b.sql)
    end
    return { sql = sql, type = t, agg = any_agg(a, b) }
  end
  fail(string.format("Cannot apply operator: %s %s %s", types.name(a.type), op,
    types.name(b.type)), node.pos)
end

EXPR.binary = function(self, node, scope)
  local a, b = self:expr(node.left, scope), self:expr(node.right, scope)
  local op = node.op
  if op == "and" or op == "or" then
    self:expect_type(a, "boolean", "The operands of " .. op:upper(), node.left.pos)
    self:expect_type(b, "boolean", "The operands of " .. op:upper(), node.right.pos)
    return { sql = string.format("(%s %s %s)", a.sql, op:upper(), b.sql), type = BOOLEAN,
             agg = any_agg(a, b) }
  elseif op == "||" then
    if a.type.kind == "array" or b.type.kind == "array" then
      return self:concat_arrays({ a, b }, node.pos)
    end
    self:expect_type(a, "varchar", "The operands of ||", node.left.pos)
    self:expect_type(b, "varchar", "The operands of ||", node.right.pos)
    return { sql = string.format("(%s || %s)", a.sql, b.sql), type = VARCHAR, agg = any_agg(a, b) }
  elseif ARITHMETIC[op] then
    return self:arithmetic(node, a, b)
  end
  fail("operator " .. op .. " is not supported by the local engine", node.pos)
end

-- Arrays concatenated, in order.
function T:concat_arrays(list, pos)
  local t = self:unify(list, "Concatenated arrays", pos)
  if t.kind ~= "array" then
    fail("Cannot concatenate " .. types.name(t) .. " with an array", pos)
  end
  local parts, agg = {}, nil
  for i, e in ipairs(list) do
    local alias = self:alias("_c")
    parts[i] = string.format("SELECT %d AS part, %s.key AS k, %s.value AS v FROM json_each(%s) "
      .. "AS %s", i, alias, alias, e.sql, alias)
    agg = agg or e.agg
  end
  local null_check = {}
  for i, e in ipairs(list) do
    null_check[i] = e.sql .. " IS NULL"
  end
  return { sql = string.format("CASE WHEN %s THEN NULL ELSE (SELECT json_group_array(v) FROM "
    .. "(%s ORDER BY part, k)) END", table.concat(null_check, " OR "),
    table.concat(parts, " UNION ALL ")), type = t, agg = agg }
end

EXPR.negate = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  if e.interval then
    return { sql = "(-" .. e.sql .. ")", type = e.type,
             interval = { amount = -e.interval.amount, unit = e.interval.unit } }
  end
  self:expect_type(e, "bigint double", "The operand of unary minus", node.pos)
  if e.type.kind == "bigint" and node.expr.node ~= "number" then
    return { sql = "sq_neg(" .. e.sql .. ")", type = e.type, agg = e.agg }
  end
  return { sql = "(-" .. e.sql .. ")", type = e.type, agg = e.agg }
end

EXPR.case = function(self, node, scope)
  local parts, results, agg = { "CASE" }, {}, nil
  local operand
  if node.operand then
    operand = self:expr(node.operand, scope)
    agg = operand.agg
  end
  local conditions = {}
  for i, when in ipairs(node.whens) do
    local condition = self:expr(when.condition, scope)
    if operand then
      local a, b = self:comparable(operand, condition, "=", when.condition.pos)
      operand = a
      condition = b
    else
      self:expect_type(condition, "boolean", "A WHEN condition", when.condition.pos)
    end
    conditions[i] = condition
    results[i] = self:expr(when.result, scope)
    agg = agg or condition.agg or results[i].agg
  end
  if node["else"] then
    results[#results + 1] = self:expr(node["else"], scope)
    agg = agg or results[#results].agg
  end
  local t = self:unify(results, "All CASE results", node.pos)
  if operand then
    parts[#parts + 1] = operand.sql
  end
  for i, condition in ipairs(conditions) do
    parts[#parts + 1] = string.format("WHEN %s THEN %s", bare(condition.sql), results[i].sql)
  end
  if node["else"] then
    parts[#parts + 1] = "ELSE " .. results[#results].sql
  end
  parts[#parts + 1] = "END"
  return { sql = table.concat(parts, " "), type = t, agg = agg }
end

EXPR.exists = function(self, node, scope)
  local q = self:query(node.query, scope)
  return { sql = "EXISTS (" .. q.sql .. ")", type = BOOLEAN }
end

EXPR.scalar_subquery = function(self, node, scope)
  local q = self:query(node.query, scope)
  if #q.columns ~= 1 then
    fail("Multiple columns returned by subquery are not yet supported", node.pos)
  end
  if q.single then
    return { sql = "(" .. q.sql .. ")", type = q.columns[1].type }
  end
  -- Trino fails where a scalar sub-query has more than one row; SQLite takes the first
  return { sql = string.format('(SELECT sq_scalar("_q".%s) FROM (%s) AS "_q")',
    quote_name(q.columns[1].name), q.sql), type = q.columns[1].type }
end

-- A value as JSON inside json_array / json_group_array: JSON text stays JSON.
local function as_json_value(e)
  if types.is_json(e.type) then
    return "json(" .. e.sql .. ")"
  end
  return e.sql
end
translate.as_json_value = as_json_value

EXPR.array = function(self, node, scope)
  local items, agg = {}, nil
  for i, item in ipairs(node.items) do
    items[i] = self:expr(item, scope)
    agg = agg or items[i].agg
  end
  local t = self:unify(items, "All ARRAY elements", node.pos)
  local sqls = {}
  for i, e in ipairs(items) do
    sqls[i] = as_json_value(e)
  end
  return { sql = "json_array(" .. table.concat(sqls, ", ") .. ")", type = types.array(t),
           agg = agg }
end

EXPR.row = function(_, node)
  fail("ROW values are not supported by the local engine", node.pos)
end

local INTERVAL_MS = { day = 86400000, hour = 3600000, minute = 60000, second = 1000 }

EXPR.interval = function(_, node)
  local value = node.value
  if node.unit == "year" or node.unit == "month" then
    local n = tonumber(value)
    if not (n and math.tointeger(n)) then
      fail("Invalid INTERVAL value '" .. value .. "'", node.pos)
    end
    n = math.tointeger(n) * node.sign
    local months = node.unit == "year" and n * 12 or n
    return { sql = tostring(months), type = types.INTERVAL_YM, interval = { amount = n,
             unit = node.unit } }
  end
  local n = tonumber(value)
  if not n then
    fail("Invalid INTERVAL value '" .. value .. "'", node.pos)
  end
  local ms = n * INTERVAL_MS[node.unit] * node.sign
  if not math.tointeger(ms) then
    fail("Invalid INTERVAL value '" .. value .. "'", node.pos)
  end
  ms = math.tointeger(ms)
  local amount, unit = math.tointeger(n * node.sign), node.unit
  if not amount then
    amount, unit = ms, "millisecond"
  end
  return { sql = tostring(ms), type = types.INTERVAL_DS, interval = { amount = amount,
           unit = unit } }
end

EXPR.typed_literal = function(_, node)
  local ms = sqlite.parse_timestamp(node.value)
  if not ms or (node.type == "date" and #node.value ~= 10) then
    fail(string.format("Value cannot be cast to %s: %s", node.type, node.value), node.pos)
  end
  local text = sqlite.format_timestamp(ms)
  if node.type == "date" then
    return { sql = quote_string(text:sub(1, 10)), type = types.DATE }
  end
  local zoned = node.value:match("[Zz]$") or node.value:match("[+-]%d%d:?%d%d$")
    or node.value:match("UTC$")
  return { sql = quote_string(text), type = zoned and types.TIMESTAMPTZ or types.TIMESTAMP }
end

EXPR.current = function(self, node)
  local stamp = sqlite.format_timestamp(self.clock * 1000)
  if node.what == "current_date" then
    return { sql = quote_string(stamp:sub(1, 10)), type = types.DATE }
  elseif node.what == "current_timestamp" then
    return { sql = quote_string(stamp), type = types.TIMESTAMPTZ }
  elseif node.what == "localtimestamp" then
    return { sql = quote_string(stamp), type = types.TIMESTAMP }
  end
  fail(node.what:upper() .. " is not supported by the local engine", node.pos)
end

local UTC_ZONES = { utc = true, ["etc/utc"] = true, z = true, gmt = true, ["+00:00"] = true,
                    zulu = true, ["etc/gmt"] = true }

EXPR.at_time_zone = function(self, node, scope)
  local e = self:expr(node.expr, scope)
  if not (node.zone.node == "string" and UTC_ZONES[node.zone.value:lower()]) then
    fail("AT TIME ZONE other than 'UTC' is not supported by the local engine", node.zone.pos)
  end
  self:expect_type(e, "timestamp timestamptz", "The operand of AT TIME ZONE", node.pos)
  return { sql = e.sql, type = types.TIMESTAMPTZ, agg = e.agg }
end

EXPR.lambda = function(_, node)
  fail("a lambda expression is only allowed as a function argument", node.pos)
end

EXPR.cast = function(self, node, scope)
  if node.type.name == "decimal" then
    fail("CAST to DECIMAL is not supported by the local engine (use DOUBLE)", node.type.pos)
  end
  local target, err = types.from_node(node.type)
  if not target then
    fail(err, node.type.pos)
  end
  local result = self:cast(self:expr(node.expr, scope), target, node.try, node.pos)
  local length = target.kind == "varchar" and node.type.params and node.type.params[1]
  if length and length.number then -- varchar(n) keeps the first n characters
    result.sql = string.format("substr(%s, 1, %d)", result.sql, length.number)
  end
  return result
end

-- CAST and TRY_CAST with Trino's rules: doubles round to integers, text is parsed strictly.
function T:cast(e, target, try, pos)
  local from, to = e.type.kind, target.kind
  local strict = try and "0" or "1"
  local function result(sql)
    return { sql = sql, type = target, agg = e.agg }
  end
  if from == "unknown" then
    return result("NULL")
  end
  if types.equal(e.type, target) then
    return result(e.sql)
  end
  if to == "varchar" then
    if from == "bigint" then
      return result("CAST(" .. e.sql .. " AS TEXT)")
    elseif from == "double" then
      return result("sq_double_text(" .. e.sql .. ")")
    elseif from == "boolean" then
      return result("CASE " .. e.sql .. " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END")
    elseif from == "timestamp" or from == "date" then
      return result(e.sql)
    elseif from == "timestamptz" then
      return result("(" .. e.sql .. " || ' UTC')")
    elseif from == "json" then
      return result("sq_json_varchar(" .. e.sql .. ")")
    end
  elseif to == "bigint" then
    if from == "boolean" then
      return result(e.sql)
    elseif from == "double" or from == "varchar" then
      return result(string.format("sq_cast_bigint(%s, %s)", e.sql, strict))
    elseif from == "json" then
      return result(string.format("sq_cast_bigint(sq_json_varchar(%s), %s)", e.sql, strict))
    end
  elseif to == "double" then
    if from == "bigint" or from == "boolean" then
      return result("CAST(" .. e.sql .. " AS REAL)")
    elseif from == "varchar" then
      self:site("a NaN result (CAST(", pos)
      return result(string.format("sq_cast_double(%s, %s)", e.sql, strict))
    elseif from == "json" then
      return result(string.format("sq_cast_double(sq_json_varchar(%s), %s)", e.sql, strict))
    end
  elseif to == "boolean" then
    if from == "bigint" or from == "double" then
      return result("(" .. e.sql .. " <> 0)")
    elseif from == "varchar" then
      return result(string.format("sq_cast_boolean(%s, %s)", e.sql, strict))
    elseif from == "json" then
      return result(string.format("sq_cast_boolean(sq_json_varchar(%s), %s)", e.sql, strict))
    end
  elseif to == "timestamp" or to == "timestamptz" then
    if from == "varchar" then
      return result(string.format("sq_cast_ts(%s, %s)", e.sql, strict))
    elseif from == "date" then
      return result("(" .. e.sql .. " || ' 00:00:00.000')")
    elseif from == "timestamp" or from == "timestamptz" then
      return result(e.sql)
    end
  elseif to == "date" then
    if from == "varchar" then
      return result(string.format("sq_cast_date(%s, %s)", e.sql, strict))
    elseif from == "timestamp" or from == "timestamptz" then
      return result("substr(" .. e.sql .. ", 1, 10)")
    end
  elseif to == "json" then
    if from == "varchar" then
      return result("json_quote(" .. e.sql .. ")")
    elseif from == "bigint" or from == "double" then
      return result("json(" .. e.sql .. ")")
    elseif from == "boolean" then
      return result("CASE " .. e.sql .. " WHEN 1 THEN 'true' WHEN 0 THEN 'false' END")
    elseif from == "array" or from == "map" or from == "struct" then
      return result(e.sql)
    end
  elseif (to == "array" or to == "map") and from == "json" then
    -- TODO(local-engine): elements are not converted to the target element type
    return result(e.sql)
  end
  fail(string.format("Cannot cast %s to %s", types.name(e.type), types.name(target)), pos)
end

EXPR.call = function(self, node, scope)
  return self.functions.call(self, node, scope)
end

---------------------------------------------------------------------------
-- Relations (FROM)
---------------------------------------------------------------------------

-- Adds a relation to the scope; returns its SQL.
function T:relation(node, scope)
  local kind = node.node
  if kind == "join" then
    local left = self:relation(node.left, scope)
    local right_start = #scope.relations + 1
    local right = self:relation(node.right, scope)
    if node.kind == "cross" then
      return left .. " CROSS JOIN " .. right
    end
    local join = ({ inner = "JOIN", left = "LEFT JOIN", right = "RIGHT JOIN",
                    full = "FULL JOIN" })[node.kind]
    if node.using then
      local names = {}
      for i, name in ipairs(node.using) do
        names[i] = quote_name(name)
        for r = right_start, #scope.relations do
          local column = find_column(scope.relations[r], name)
          if column then
            column.hidden = true
          end
        end
      end
      return string.format("%s %s %s USING (%s)", left, join, right, table.concat(names, ", "))
    end
    local on = self:expr(node.on, scope)
    self:expect_type(on, "boolean", "A JOIN condition", node.on.pos)
    return string.format("%s %s %s ON %s", left, join, right, bare(on.sql))
  end
  local relation = { columns = {} }
  local sql
  if kind == "table" then
    local name = node.parts[#node.parts]
    local cte
    if #node.parts == 1 then
      local s = scope
      while s and not cte do
        cte = s.ctes[name]
        s = s.parent
      end
    end
    local source = cte
    if not source then
      local found, err = self.catalog(node.parts, node.pos)
      if not found then
        fail(err or string.format("Table '%s' does not exist", table.concat(node.parts, ".")),
          node.pos)
      end
      source = found
      self.real_tables[name] = true
    end
    relation.alias = node.alias or name
    local alias = quote_name(relation.alias)
    for i, column in ipairs(source.columns) do
      local visible = node.columns and node.columns[i] or column.name
      relation.columns[i] = { name = visible, type = column.type,
                              sql = alias .. "." .. quote_name(column.name) }
    end
    if node.columns and #node.columns ~= #source.columns then
      fail(string.format("Column alias list has %d entries but '%s' has %d columns",
        #node.columns, relation.alias, #source.columns), node.pos)
    end
    sql = source.sql .. " AS " .. alias
  elseif kind == "subquery" then
    local q = self:query(node.query, node.lateral and scope or scope.parent, node.columns)
    relation.alias = node.alias or self:alias("_s")
    local alias = quote_name(relation.alias)
    for i, column in ipairs(q.columns) do
      relation.columns[i] = { name = column.name, type = column.type,
                              sql = alias .. "." .. quote_name(column.name) }
    end
    sql = "(" .. q.sql .. ") AS " .. alias
  elseif kind == "unnest" then
    sql = self:unnest(node, scope, relation)
  else
    fail(kind .. " is not supported by the local engine", node.pos)
  end
  for _, other in ipairs(scope.relations) do
    if other.alias == relation.alias then
      fail(string.format("Relation alias '%s' is used twice", relation.alias), node.pos)
    end
  end
  scope.relations[#scope.relations + 1] = relation
  return sql
end

function T:unnest(node, scope, relation)
  if #node.args ~= 1 then
    fail("UNNEST of several arrays at once is not supported by the local engine", node.pos)
  end
  local e = self:expr(node.args[1], scope)
  local t = e.type
  relation.alias = node.alias or self:alias("_u")
  local alias = quote_name(relation.alias)
  local names = node.columns
  if not names then
    fail("UNNEST needs column names here, as in UNNEST(x) AS t(name)", node.pos)
  end
  local columns = relation.columns
  local function add(name, sql, type)
    columns[#columns + 1] = { name = name, sql = sql, type = type }
  end
  local expected
  if t.kind == "array" then
    local element = t.element
    local fields = element.kind == "struct" and #element.fields > 1
      and #names - (node.ordinality and 1 or 0) == #element.fields
    if fields then
      -- an array of rows: one column per field
      for i, field in ipairs(element.fields) do
        add(names[i], string.format("json_extract(%s.value, '$%s')", alias,
          path_step(field.name)), field.type)
      end
      expected = #element.fields
    else
      add(names[1], alias .. ".value", element)
      expected = 1
    end
  elseif t.kind == "map" then
    add(names[1], alias .. ".key", t.key)
    add(names[2] or "value", alias .. ".value", t.value)
    expected = 2
  else
    fail("Cannot unnest type: " .. types.name(t), node.args[1].pos)
  end
  if node.ordinality then
    add(names[expected + 1] or "ordinality", "(" .. alias .. ".key + 1)", BIGINT)
    expected = expected + 1
  end
  if #names ~= expected then
    fail(string.format("Column alias list has %d entries but '%s' has %d columns available",
      #names, relation.alias, expected), node.pos)
  end
  return string.format("json_each(%s) AS %s", e.sql, alias)
end

---------------------------------------------------------------------------
-- Queries
---------------------------------------------------------------------------

-- Trino's rule: the name of a column reference or field, otherwise _colN.
local function output_name(item, index)
  if item.alias then
    return item.alias
  end
  local expr = item.expr
  if expr.node == "column" and not expr._lambda then
    return expr.parts[#expr.parts]
  elseif expr.node == "dereference" then
    return expr.field
  end
  return "_col" .. (index - 1)
end

-- Walks an expression of an aggregate query: every column must be grouped or aggregated.
local CHILDREN = { "expr", "left", "right", "low", "high", "pattern", "escape", "operand",
                   "index", "zone", "else" }

function T:check_grouped(node, grouped)
  if type(node) ~= "table" then
    return
  end
  if node._sql and grouped[node._sql] then
    return
  end
  local kind = node.node
  if kind == "call" and (node.over or self.functions.is_aggregate(node.name)) then
    return
  end
  if kind == "scalar_subquery" or kind == "exists" or kind == "lambda" then
    return
  end
  if kind == "column" then
    if not (node._lambda or node._outer or grouped[node._base_sql]) then
      fail(string.format("'%s' must be an aggregate expression or appear in GROUP BY clause",
        table.concat(node.parts, ".")), node.pos)
    end
    return
  end
  for _, key in ipairs(CHILDREN) do
    self:check_grouped(node[key], grouped)
  end
  for _, list in ipairs({ node.args or {}, node.items or {}, node.list or {} }) do
    for _, child in ipairs(list) do
      self:check_grouped(child, grouped)
    end
  end
  for _, when in ipairs(node.whens or {}) do
    self:check_grouped(when.condition, grouped)
    self:check_grouped(when.result, grouped)
  end
end

function T:select(node, parent, names)
  local scope = new_scope(parent)
  local parts = { node.distinct and "SELECT DISTINCT" or "SELECT" }
  local from = {}
  for i, relation in ipairs(node.from or {}) do
    from[i] = self:relation(relation, scope)
  end
  local items, columns = {}, {}
  local aggregate = node.group_by ~= nil
  for _, item in ipairs(node.items) do
    if item.star then
      local found = false
      for _, relation in ipairs(scope.relations) do
        if not item.qualifier or relation.alias == item.qualifier then
          found = true
          for _, column in ipairs(relation.columns) do
            if not column.hidden or item.qualifier then
              items[#items + 1] = { e = { sql = column.sql, type = column.type },
                                    name = column.name }
            end
          end
        end
      end
      if not found then
        fail(item.qualifier and string.format("Table '%s' not found", item.qualifier)
          or "SELECT * with no FROM clause", item.pos)
      end
    else
      local e = self:expr(item.expr, scope)
      items[#items + 1] = { e = e, name = output_name(item, #items + 1), node = item.expr }
      aggregate = aggregate or e.agg
    end
  end
  if names and #names ~= #items then
    fail(string.format("Column alias list has %d entries but the query has %d columns",
      #names, #items), node.pos)
  end
  local sqls = {}
  for i, item in ipairs(items) do
    local name = names and names[i] or item.name
    sqls[i] = string.format("%s AS %s", item.e.sql, quote_name(name))
    columns[i] = { name = name, type = item.e.type }
  end
  parts[#parts + 1] = table.concat(sqls, ", ")
  if #from > 0 then
    parts[#parts + 1] = "FROM " .. table.concat(from, ", ")
  end
  if node.where then
    local where = self:expr(node.where, scope)
    self:expect_type(where, "boolean", "WHERE clause", node.where.pos)
    if where.agg then
      fail("WHERE clause cannot contain aggregations or window functions", node.where.pos)
    end
    parts[#parts + 1] = "WHERE " .. bare(where.sql)
  end
  local grouped = {}
  if node.group_by then
    local groups = {}
    for i, g in ipairs(node.group_by) do
      local sql
      if g.node == "number" and g.value:match("^%d+$") then
        local item = items[tonumber(g.value)]
        if not item then
          fail(string.format("GROUP BY position %s is not in select list", g.value), g.pos)
        end
        sql = item.e.sql
        if item.e.agg then
          fail("GROUP BY clause cannot contain aggregations or window functions", g.pos)
        end
      else
        local e = self:expr(g, scope)
        if e.agg then
          fail("GROUP BY clause cannot contain aggregations or window functions", g.pos)
        end
        sql = e.sql
      end
      groups[i] = sql
      grouped[sql] = true
    end
    parts[#parts + 1] = "GROUP BY " .. table.concat(groups, ", ")
  end
  if node.having then
    local having = self:expr(node.having, scope)
    self:expect_type(having, "boolean", "HAVING clause", node.having.pos)
    parts[#parts + 1] = "HAVING " .. bare(having.sql)
    aggregate = true
  end
  if aggregate then
    for _, item in ipairs(items) do
      if item.node then
        self:check_grouped(item.node, grouped)
      end
    end
    if node.having then
      self:check_grouped(node.having, grouped)
    end
  end
  return { sql = table.concat(parts, " "), columns = columns, scope = scope, items = items,
           aggregate = aggregate, grouped = grouped, distinct = node.distinct }
end

function T:values(node, names)
  local rows, columns = {}, {}
  local width = #node.rows[1]
  local row_types = {}
  for r, row in ipairs(node.rows) do
    if #row ~= width then
      fail("Values rows have mismatched sizes", row.pos)
    end
    local sqls = {}
    for c, item in ipairs(row) do
      local e = self:expr(item, new_scope(nil))
      local t = row_types[c] and common_type(row_types[c], e.type) or e.type
      if not t then
        fail("Values rows have mismatched types", item.pos)
      end
      row_types[c] = t
      sqls[c] = types.is_json(e.type) and as_json_value(e) or e.sql
    end
    rows[r] = "(" .. table.concat(sqls, ", ") .. ")"
  end
  if names and #names ~= width then
    fail(string.format("Column alias list has %d entries but VALUES has %d columns", #names,
      width), node.pos)
  end
  local sqls = {}
  for c = 1, width do
    local name = names and names[c] or ("_col" .. (c - 1))
    sqls[c] = string.format("column%d AS %s", c, quote_name(name))
    columns[c] = { name = name, type = row_types[c] }
  end
  return { sql = string.format("SELECT %s FROM (VALUES %s)", table.concat(sqls, ", "),
    table.concat(rows, ", ")), columns = columns }
end

-- A query body (select, set operation, nested query, VALUES).
function T:body(node, scope, names)
  local kind = node.node
  if kind == "select" then
    return self:select(node, scope, names)
  elseif kind == "values" then
    return self:values(node, names)
  elseif kind == "nested" then
    local q = self:query(node.query, scope, names)
    return { sql = "SELECT * FROM (" .. q.sql .. ")", columns = q.columns }
  elseif kind == "set" then
    local left = self:body(node.left, scope, names)
    local right = self:body(node.right, scope)
    if #left.columns ~= #right.columns then
      fail(string.format("%s query has different number of fields: %d, %d", node.op:upper(),
        #left.columns, #right.columns), node.pos)
    end
    local columns = {}
    for i, column in ipairs(left.columns) do
      local t = common_type(column.type, right.columns[i].type)
      if not t then
        fail(string.format("column %d in %s query has incompatible types: %s, %s", i,
          node.op:upper(), types.name(column.type), types.name(right.columns[i].type)), node.pos)
      end
      columns[i] = { name = column.name, type = t }
    end
    local right_sql = right.sql
    if node.right.node == "set" then
      right_sql = "SELECT * FROM (" .. right_sql .. ")"
    end
    local op = node.op:upper() .. (node.all and " ALL" or "")
    if node.all and node.op ~= "union" then
      fail(op .. " is not supported by the local engine", node.pos)
    end
    return { sql = left.sql .. " " .. op .. " " .. right_sql, columns = columns }
  end
  fail(kind .. " is not supported by the local engine", node.pos)
end

-- ORDER BY items: output names and positions first, then expressions of the select's scope.
function T:order_by(query, body)
  local sqls = {}
  for i, item in ipairs(query.order_by) do
    local expr, sql = item.expr, nil
    if expr.node == "number" and expr.value:match("^%d+$") then
      local position = tonumber(expr.value)
      if position < 1 or position > #body.columns then
        fail(string.format("ORDER BY position %d is not in select list", position), expr.pos)
      end
      sql = tostring(position)
    elseif expr.node == "column" and #expr.parts == 1 then
      for position, column in ipairs(body.columns) do
        if column.name == expr.parts[1] then
          if sql then
            fail(string.format("Column '%s' is ambiguous", expr.parts[1]), expr.pos)
          end
          sql = tostring(position)
        end
      end
    end
    if not sql then
      if not body.scope then
        fail("ORDER BY of a set operation must name an output column", expr.pos)
      end
      local e = self:expr(expr, body.scope)
      if body.aggregate then
        self:check_grouped(expr, body.grouped)
      end
      sql = e.sql
      for position, it in ipairs(body.items) do
        if it.e.sql == e.sql then
          sql = tostring(position)
          break
        end
      end
      if body.distinct and sql == e.sql then
        fail("For SELECT DISTINCT, ORDER BY expressions must appear in select list", expr.pos)
      end
    end
    sqls[i] = sql .. (item.desc and " DESC" or "") .. (item.nulls == "first" and " NULLS FIRST"
      or " NULLS LAST")
  end
  return "ORDER BY " .. table.concat(sqls, ", ")
end

-- A whole query: WITH, body, ORDER BY, OFFSET, LIMIT. `names` renames its columns.
function T:query(node, parent, names)
  local scope = new_scope(parent)
  local parts = {}
  if node.with then
    local ctes = {}
    for i, cte in ipairs(node.with) do
      if scope.ctes[cte.name] then
        fail(string.format("WITH query name '%s' specified more than once", cte.name), cte.pos)
      end
      local q = self:query(cte.query, scope, cte.columns)
      -- a query named after the table it reads would be recursive in SQLite
      local sql_name = quote_name(self.real_tables[cte.name] and cte.name .. "~cte" or cte.name)
      ctes[i] = string.format("%s AS (%s)", sql_name, q.sql)
      scope.ctes[cte.name] = { sql = sql_name, columns = q.columns }
    end
    parts[1] = "WITH " .. table.concat(ctes, ", ")
  end
  local body = self:body(node.body, scope, names)
  parts[#parts + 1] = body.sql
  if node.order_by then
    parts[#parts + 1] = self:order_by(node, body)
  end
  if node.limit then
    parts[#parts + 1] = "LIMIT " .. node.limit
  elseif node.offset then
    parts[#parts + 1] = "LIMIT -1"
  end
  if node.offset then
    parts[#parts + 1] = "OFFSET " .. node.offset
  end
  -- at most one row: LIMIT 0 or 1, or an aggregation without GROUP BY
  local single = (node.limit and tonumber(node.limit) <= 1)
    or (body.aggregate and node.body.node == "select" and not node.body.group_by)
  return { sql = table.concat(parts, " "), columns = body.columns, single = single or nil }
end

---------------------------------------------------------------------------

-- Translates one query. Returns { sql =, columns = } or nil and an error table whose
-- message names the line and column.
function translate.translate(text, env)
  local ast, err = parser.parse(text)
  local result
  if ast then
    local self = setmetatable({ clock = env.clock or 0, catalog = env.catalog, counter = 0,
                                functions = require("sq.sql.functions"), real_tables = {},
                                sites = {} }, T)
    local ok, value = pcall(T.query, self, ast, nil)
    if ok then
      result = value
      for _, site in ipairs(self.sites) do
        site.line, site.column = lexer.where(text, site.pos)
      end
      result.sites = self.sites
    elseif type(value) == "table" and value.message then
      err = value
    else
      error(value, 0)
    end
  end
  if result then
    return result
  end
  local line, column = lexer.where(text, err.pos or 1)
  return nil, { message = string.format("line %d:%d: %s", line, column, err.message),
                pos = err.pos, line = line, column = column }
end

return translate
