-- Recursive-descent parser for the Athena (Trino) SQL that detections use.
--
-- parser.parse(text) returns the AST of one query:
--   { node = "query", with = { { name =, columns =, query = } }, body = <set or select>,
--     order_by = { { expr =, desc =, nulls = } }, limit =, offset = }
--   set:    { node = "set", op = "union" | "intersect" | "except", all =, left =, right = }
--   select: { node = "select", distinct =, items =, from =, where =, group_by =, having = }
-- Expressions are tables with a `node` field and the byte offset `pos` of their first
-- token. Errors are raised as { message =, pos = }.
local lexer = require("sq.sql.lexer")

local parser = {}

local P = {}
P.__index = P

local function fail(message, pos)
  error({ message = message, pos = pos }, 0)
end

function P:peek(offset)
  return self.tokens[self.i + (offset or 0)]
end

function P:next()
  local token = self.tokens[self.i]
  self.i = self.i + 1
  return token
end

-- Is the current token the keyword (or bare word) `word`?
function P:is(word, offset)
  local token = self:peek(offset)
  return (token.kind == "keyword" or (token.kind == "ident" and not token.quoted))
    and token.value == word
end

function P:is_op(op, offset)
  local token = self:peek(offset)
  return token.kind == "op" and token.value == op
end

function P:accept(word)
  if self:is(word) then
    return self:next()
  end
end

function P:accept_op(op)
  if self:is_op(op) then
    return self:next()
  end
end

local function describe(token)
  if token.kind == "eof" then
    return "end of input"
  elseif token.kind == "string" then
    return "'" .. token.value .. "'"
  end
  return "'" .. token.value .. "'"
end

function P:expect(word)
  local token = self:peek()
  if not self:is(word) then
    fail(string.format("expected %s but found %s", word:upper(), describe(token)), token.pos)
  end
  return self:next()
end

function P:expect_op(op)
  local token = self:peek()
  if not self:is_op(op) then
    fail(string.format("expected '%s' but found %s", op, describe(token)), token.pos)
  end
  return self:next()
end

-- An identifier (quoted or not, never a reserved word).
function P:identifier(what)
  local token = self:peek()
  if token.kind ~= "ident" then
    fail(string.format("expected %s but found %s", what or "an identifier", describe(token)),
      token.pos)
  end
  self:next()
  return token.value, token
end

function P:unsupported(what, pos)
  fail(what .. " is not supported by the local engine", pos or self:peek().pos)
end

---------------------------------------------------------------------------
-- Queries
---------------------------------------------------------------------------

function P:query()
  local start = self:peek().pos
  local query = { node = "query", pos = start }
  if self:accept("with") then
    if self:is("recursive") then
      self:unsupported("WITH RECURSIVE")
    end
    query.with = {}
    repeat
      local name, token = self:identifier("a query name")
      local cte = { name = name, pos = token.pos }
      if self:is_op("(") then
        cte.columns = self:column_aliases()
      end
      self:expect("as")
      self:expect_op("(")
      cte.query = self:query()
      self:expect_op(")")
      query.with[#query.with + 1] = cte
    until not self:accept_op(",")
  end
  query.body = self:query_body()
  if self:is("order") then
    self:next()
    self:expect("by")
    query.order_by = self:sort_items()
  end
  self:limit_clauses(query)
  return query
end

function P:limit_clauses(query)
  while true do
    if self:accept("offset") then
      query.offset = self:count_value()
      local _ = self:accept("row") or self:accept("rows")
    elseif self:accept("limit") then
      if self:accept("all") then
        query.limit = nil
      else
        query.limit = self:count_value()
      end
    elseif self:is("fetch") then
      self:next()
      local _ = self:accept("first") or self:expect("next")
      query.limit = self:peek().kind == "number" and self:count_value() or 1
      local _ = self:accept("row") or self:expect("rows")
      if self:accept("with") then
        self:unsupported("FETCH ... WITH TIES")
      end
      self:expect("only")
    else
      return
    end
  end
end

function P:count_value()
  local token = self:next()
  if token.kind ~= "number" or not token.value:match("^%d+$") then
    fail("expected a row count but found " .. describe(token), token.pos)
  end
  return tonumber(token.value)
end

function P:sort_items()
  local items = {}
  repeat
    local item = { expr = self:expression(), pos = self:peek().pos }
    if self:accept("desc") then
      item.desc = true
    else
      self:accept("asc")
    end
    if self:accept("nulls") then
      if self:accept("first") then
        item.nulls = "first"
      else
        self:expect("last")
        item.nulls = "last"
      end
    end
    items[#items + 1] = item
  until not self:accept_op(",")
  return items
end

-- UNION and EXCEPT bind looser than INTERSECT.
function P:query_body()
  local left = self:query_term()
  while self:is("union") or self:is("except") do
    local token = self:next()
    local all = self:accept("all") ~= nil
    if not all then
      self:accept("distinct")
    end
    left = { node = "set", op = token.value, all = all, left = left, right = self:query_term(),
             pos = token.pos }
  end
  return left
end

function P:query_term()
  local left = self:query_primary()
  while self:is("intersect") do
    local token = self:next()
    local all = self:accept("all") ~= nil
    if not all then
      self:accept("distinct")
    end
    left = { node = "set", op = "intersect", all = all, left = left, right = self:query_primary(),
             pos = token.pos }
  end
  return left
end

function P:query_primary()
  local token = self:peek()
  if self:is("select") then
    return self:select()
  elseif self:is_op("(") then
    self:next()
    local query = self:query()
    self:expect_op(")")
    return { node = "nested", query = query, pos = token.pos }
  elseif self:is("values") then
    return self:values()
  elseif self:is("table") then
    self:unsupported("TABLE statements")
  end
  fail("expected SELECT but found " .. describe(token), token.pos)
end

function P:values()
  local token = self:expect("values")
  local rows = {}
  repeat
    local row_pos = self:peek().pos
    local row
    if self:accept_op("(") then
      row = self:expression_list()
      self:expect_op(")")
    else
      row = { self:expression() }
    end
    row.pos = row_pos
    rows[#rows + 1] = row
  until not self:accept_op(",")
  return { node = "values", rows = rows, pos = token.pos }
end

function P:expression_list()
  local list = {}
  repeat
    list[#list + 1] = self:expression()
  until not self:accept_op(",")
  return list
end

function P:column_aliases()
  local names = {}
  self:expect_op("(")
  repeat
    names[#names + 1] = self:identifier("a column name")
  until not self:accept_op(",")
  self:expect_op(")")
  return names
end

-- Words that follow a select item or a table, so never a bare alias there.
local NOT_AN_ALIAS = { limit = true, offset = true, fetch = true, window = true,
                       tablesample = true }

-- An optional [AS] alias [(columns)].
function P:alias(allow_columns)
  local alias, columns
  local token = self:peek()
  if self:accept("as") then
    alias = self:identifier("an alias")
  elseif token.kind == "ident" and (token.quoted or not NOT_AN_ALIAS[token.value]) then
    alias = self:identifier()
  end
  if alias and allow_columns and self:is_op("(") then
    columns = self:column_aliases()
  end
  return alias, columns
end

function P:select()
  local token = self:expect("select")
  local select = { node = "select", pos = token.pos, items = {} }
  if self:accept("distinct") then
    select.distinct = true
  else
    self:accept("all")
  end
  repeat
    local start = self:peek()
    if self:is_op("*") then
      self:next()
      select.items[#select.items + 1] = { star = true, pos = start.pos }
    elseif start.kind == "ident" and self:is_op(".", 1) and self:is_op("*", 2) then
      self:next()
      self:next()
      self:next()
      select.items[#select.items + 1] = { star = true, qualifier = start.value, pos = start.pos }
    else
      local expr = self:expression()
      local alias = self:alias(false)
      select.items[#select.items + 1] = { expr = expr, alias = alias, pos = start.pos }
    end
  until not self:accept_op(",")
  if self:accept("from") then
    select.from = {}
    repeat
      select.from[#select.from + 1] = self:relation()
    until not self:accept_op(",")
  end
  if self:accept("where") then
    select.where = self:expression()
  end
  if self:is("group") then
    self:next()
    self:expect("by")
    if self:accept("distinct") then
      self:unsupported("GROUP BY DISTINCT")
    end
    self:accept("all")
    select.group_by = {}
    repeat
      if self:is("grouping") or self:is("rollup") or self:is("cube") then
        self:unsupported("GROUPING SETS, ROLLUP and CUBE")
      end
      select.group_by[#select.group_by + 1] = self:expression()
    until not self:accept_op(",")
  end
  if self:accept("having") then
    select.having = self:expression()
  end
  if self:is("window") then
    self:unsupported("the WINDOW clause")
  end
  return select
end

---------------------------------------------------------------------------
-- Relations
---------------------------------------------------------------------------

function P:relation()
  local left = self:relation_primary()
  while true do
    local token = self:peek()
    local kind
    if self:is("cross") then
      self:next()
      self:expect("join")
      left = { node = "join", kind = "cross", left = left, right = self:relation_primary(),
               pos = token.pos }
    elseif self:is("natural") then
      self:unsupported("NATURAL JOIN")
    else
      if self:is("join") or self:is("inner") then
        kind = "inner"
        self:accept("inner")
      elseif self:is("left") or self:is("right") or self:is("full") then
        kind = self:next().value
        self:accept("outer")
      else
        return left
      end
      self:expect("join")
      local right = self:relation_primary()
      local join = { node = "join", kind = kind, left = left, right = right, pos = token.pos }
      if self:accept("on") then
        join.on = self:expression()
      elseif self:accept("using") then
        join.using = self:column_aliases()
      else
        fail("expected ON or USING after JOIN", self:peek().pos)
      end
      left = join
    end
  end
end

function P:relation_primary()
  local token = self:peek()
  local relation
  if self:is("unnest") then
    self:next()
    self:expect_op("(")
    relation = { node = "unnest", args = self:expression_list(), pos = token.pos }
    self:expect_op(")")
    if self:accept("with") then
      self:expect("ordinality")
      relation.ordinality = true
    end
  elseif self:is("lateral") then
    self:next()
    self:expect_op("(")
    relation = { node = "subquery", query = self:query(), pos = token.pos, lateral = true }
    self:expect_op(")")
  elseif self:is_op("(") then
    -- a sub-query, or a parenthesized join
    local k = 1
    while self:is_op("(", k) do
      k = k + 1
    end
    if self:is("select", k) or self:is("with", k) or self:is("values", k) then
      self:next()
      relation = { node = "subquery", query = self:query(), pos = token.pos }
      self:expect_op(")")
    else
      self:next()
      relation = self:relation()
      self:expect_op(")")
      return relation
    end
  elseif token.kind == "ident" then
    local parts = { (self:identifier()) }
    while self:accept_op(".") do
      parts[#parts + 1] = self:identifier("a table name")
    end
    relation = { node = "table", parts = parts, pos = token.pos }
    if self:is("tablesample") then
      self:unsupported("TABLESAMPLE")
    end
    if self:is("for") then
      self:unsupported("time travel (FOR ... AS OF)")
    end
  else
    fail("expected a table but found " .. describe(token), token.pos)
  end
  relation.alias, relation.columns = self:alias(true)
  return relation
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

function P:expression()
  return self:disjunction()
end

-- One level of left-associative binary operators: match(self, token) gives the node's op
-- for an operator of this level, or nil.
function P:binary_level(operand, match)
  local left = operand(self)
  while true do
    local token = self:peek()
    local op = match(self, token)
    if not op then
      return left
    end
    self:next()
    left = { node = "binary", op = op, left = left, right = operand(self), pos = token.pos }
  end
end

local function word(w)
  return function(self)
    return self:is(w) and w or nil
  end
end

local function symbols(...)
  local set = {}
  for _, op in ipairs({ ... }) do
    set[op] = true
  end
  return function(_, token)
    return token.kind == "op" and set[token.value] and token.value or nil
  end
end

local OR, AND = word("or"), word("and")
local CONCAT, ADDITIVE, MULTIPLICATIVE = symbols("||"), symbols("+", "-"), symbols("*", "/", "%")

function P:disjunction()
  return self:binary_level(P.conjunction, OR)
end

function P:conjunction()
  return self:binary_level(P.negation, AND)
end

function P:negation()
  if self:is("not") then
    local token = self:next()
    return { node = "not", expr = self:negation(), pos = token.pos }
  end
  return self:predicate()
end

local COMPARISONS = { ["="] = "=", ["<>"] = "<>", ["!="] = "<>", ["<"] = "<", [">"] = ">",
                      ["<="] = "<=", [">="] = ">=" }

function P:predicate()
  local left = self:concatenation()
  while true do
    local token = self:peek()
    local negated = false
    if token.kind == "op" and COMPARISONS[token.value] then
      self:next()
      if self:is("any") or self:is("some") or self:is("all") then
        self:unsupported("quantified comparisons (" .. self:peek().value:upper() .. ")")
      end
      left = { node = "compare", op = COMPARISONS[token.value], left = left,
               right = self:concatenation(), pos = token.pos }
    elseif self:is("is") then
      self:next()
      negated = self:accept("not") ~= nil
      if self:accept("null") then
        left = { node = "isnull", expr = left, negated = negated, pos = token.pos }
      elseif self:accept("distinct") then
        self:expect("from")
        left = { node = "distinct_from", left = left, right = self:concatenation(),
                 negated = negated, pos = token.pos }
      elseif self:is("true") or self:is("false") then
        left = { node = "is_bool", expr = left, value = self:next().value == "true",
                 negated = negated, pos = token.pos }
      else
        fail("expected NULL, DISTINCT FROM, TRUE or FALSE after IS", self:peek().pos)
      end
    else
      if self:is("not") and (self:is("between", 1) or self:is("in", 1) or self:is("like", 1)) then
        self:next()
        negated = true
      end
      if self:accept("between") then
        local low = self:concatenation()
        self:expect("and")
        left = { node = "between", expr = left, low = low, high = self:concatenation(),
                 negated = negated, pos = token.pos }
      elseif self:accept("in") then
        self:expect_op("(")
        if self:is("select") or self:is("with") then
          left = { node = "in_query", expr = left, query = self:query(), negated = negated,
                   pos = token.pos }
        else
          left = { node = "in", expr = left, list = self:expression_list(), negated = negated,
                   pos = token.pos }
        end
        self:expect_op(")")
      elseif self:accept("like") then
        local like = { node = "like", expr = left, pattern = self:concatenation(),
                       negated = negated, pos = token.pos }
        if self:accept("escape") then
          like.escape = self:concatenation()
        end
        left = like
      else
        return left
      end
    end
  end
end

function P:concatenation()
  return self:binary_level(P.additive, CONCAT)
end

function P:additive()
  return self:binary_level(P.multiplicative, ADDITIVE)
end

function P:multiplicative()
  return self:binary_level(P.unary, MULTIPLICATIVE)
end

function P:unary()
  if self:is_op("-") or self:is_op("+") then
    local token = self:next()
    local operand = self:unary()
    if token.value == "+" then
      return operand
    end
    return { node = "negate", expr = operand, pos = token.pos }
  end
  local expr = self:postfix()
  if self:is("at") then
    local token = self:next()
    self:expect("time")
    self:expect("zone")
    expr = { node = "at_time_zone", expr = expr, zone = self:postfix(), pos = token.pos }
  end
  return expr
end

function P:postfix()
  local expr = self:primary()
  while true do
    local token = self:peek()
    if self:accept_op("[") then
      expr = { node = "subscript", expr = expr, index = self:expression(), pos = token.pos }
      self:expect_op("]")
    elseif self:is_op(".") and self:peek(1).kind == "ident" then
      self:next()
      local field = self:identifier("a field name")
      if expr.node == "column" and not expr.closed then
        expr.parts[#expr.parts + 1] = field
      else
        expr = { node = "dereference", expr = expr, field = field, pos = token.pos }
      end
    else
      return expr
    end
  end
end

local INTERVAL_UNITS = { year = true, month = true, day = true, hour = true, minute = true,
                         second = true }

function P:interval(token)
  local sign = 1
  if self:accept_op("-") then
    sign = -1
  else
    self:accept_op("+")
  end
  local value = self:next()
  if value.kind ~= "string" and value.kind ~= "number" then
    fail("expected the interval's value as a string, e.g. INTERVAL '1' HOUR", value.pos)
  end
  local unit_token = self:peek()
  local unit = unit_token.value:gsub("s$", "")
  if not INTERVAL_UNITS[unit] then
    fail("expected an interval unit (YEAR, MONTH, DAY, HOUR, MINUTE, SECOND) but found "
      .. describe(unit_token), unit_token.pos)
  end
  self:next()
  if self:is("to") then
    self:unsupported("INTERVAL ... TO ...")
  end
  return { node = "interval", value = value.value, sign = sign, unit = unit, pos = token.pos }
end

function P:type_name()
  local token = self:peek()
  local name = self:identifier_or_keyword("a type name")
  if name == "double" then
    self:accept("precision")
  end
  if name == "timestamp" or name == "time" then
    if self:accept_op("(") then
      self:next()
      self:expect_op(")")
    end
    if self:accept("with") then
      self:expect("time")
      self:expect("zone")
      return { name = name .. " with time zone", pos = token.pos }
    end
    self:accept("without")
    return { name = name, pos = token.pos }
  end
  local type = { name = name, pos = token.pos }
  if self:is_op("(") or self:is_op("<") then
    local close = self:next().value == "(" and ")" or ">"
    type.params = {}
    repeat
      local t = self:peek()
      if t.kind == "number" then
        self:next()
        type.params[#type.params + 1] = { number = tonumber(t.value) }
      elseif name == "row" or name == "struct" then
        local field = self:identifier_or_keyword("a field name")
        self:accept_op(":")
        type.params[#type.params + 1] = { name = field, type = self:type_name() }
      else
        type.params[#type.params + 1] = { type = self:type_name() }
      end
    until not self:accept_op(",")
    self:expect_op(close)
  end
  return type
end

function P:identifier_or_keyword(what)
  local token = self:peek()
  if token.kind ~= "ident" and token.kind ~= "keyword" then
    fail(string.format("expected %s but found %s", what, describe(token)), token.pos)
  end
  self:next()
  return token.value
end

function P:case_expression(token)
  local case = { node = "case", whens = {}, pos = token.pos }
  if not self:is("when") then
    case.operand = self:expression()
  end
  while self:accept("when") do
    local condition = self:expression()
    self:expect("then")
    case.whens[#case.whens + 1] = { condition = condition, result = self:expression() }
  end
  if #case.whens == 0 then
    fail("expected WHEN in CASE", self:peek().pos)
  end
  if self:accept("else") then
    case["else"] = self:expression()
  end
  self:expect("end")
  return case
end

-- Is the current token the start of a lambda: x -> ..., or (x, y) -> ...?
function P:lambda_ahead()
  if self:peek().kind == "ident" and self:is_op("->", 1) then
    return true
  end
  if self:is_op("(") then
    local k = 1
    while self:peek(k).kind == "ident" do
      if self:is_op(")", k + 1) then
        return self:is_op("->", k + 2)
      end
      if not self:is_op(",", k + 1) then
        return false
      end
      k = k + 2
    end
  end
  return false
end

function P:lambda()
  local token = self:peek()
  local params = {}
  if self:accept_op("(") then
    repeat
      params[#params + 1] = self:identifier("a lambda parameter")
    until not self:accept_op(",")
    self:expect_op(")")
  else
    params[1] = self:identifier("a lambda parameter")
  end
  self:expect_op("->")
  return { node = "lambda", params = params, body = self:expression(), pos = token.pos }
end

function P:window()
  local token = self:expect_op("(")
  local window = { pos = token.pos }
  if self:accept("partition") then
    self:expect("by")
    window.partition_by = self:expression_list()
  end
  if self:accept("order") then
    self:expect("by")
    window.order_by = self:sort_items()
  end
  if self:is("rows") or self:is("range") or self:is("groups") then
    local kind = self:next().value
    local function bound()
      local t = self:peek()
      if self:accept("unbounded") then
        local direction = self:accept("preceding") or self:expect("following")
        return "UNBOUNDED " .. direction.value:upper()
      elseif self:accept("current") then
        self:expect("row")
        return "CURRENT ROW"
      elseif t.kind == "number" then
        self:next()
        local direction = self:accept("preceding") or self:expect("following")
        return t.value .. " " .. direction.value:upper()
      elseif self:is("interval") then -- Athena takes it; SQLite's frames count rows only
        fail("a window frame bound of an INTERVAL is not supported by the local engine", t.pos)
      end
      fail("expected a window frame bound but found " .. describe(t), t.pos)
    end
    if self:accept("between") then
      local low = bound()
      self:expect("and")
      window.frame = kind:upper() .. " BETWEEN " .. low .. " AND " .. bound()
    else
      window.frame = kind:upper() .. " " .. bound()
    end
  end
  self:expect_op(")")
  return window
end

function P:call(name, token)
  local call = { node = "call", name = name, args = {}, pos = token.pos }
  self:expect_op("(")
  if self:is_op("*") and self:is_op(")", 1) then
    self:next()
    call.star = true
  elseif not self:is_op(")") then
    if self:accept("distinct") then
      call.distinct = true
    else
      self:accept("all")
    end
    repeat
      if self:lambda_ahead() then
        call.args[#call.args + 1] = self:lambda()
      else
        call.args[#call.args + 1] = self:expression()
      end
    until not self:accept_op(",")
    if self:is("order") then
      self:unsupported("ORDER BY inside an aggregate")
    end
  end
  self:expect_op(")")
  if self:is("filter") then
    self:next()
    self:expect_op("(")
    self:expect("where")
    call.filter = self:expression()
    self:expect_op(")")
  end
  if self:is("ignore") or self:is("respect") then
    self:unsupported("IGNORE NULLS and RESPECT NULLS")
  end
  if self:accept("over") then
    if self:peek().kind == "ident" then
      self:unsupported("named windows")
    end
    call.over = self:window()
  end
  return call
end

local CURRENT = { current_timestamp = true, current_date = true, current_time = true,
                  localtimestamp = true, localtime = true }

function P:primary()
  local token = self:peek()
  local kind, value = token.kind, token.value
  if kind == "number" then
    self:next()
    return { node = "number", value = value, pos = token.pos }
  elseif kind == "string" then
    self:next()
    return { node = "string", value = value, pos = token.pos }
  elseif kind == "op" and value == "(" then
    if self:is("select", 1) or self:is("with", 1) then
      self:next()
      local query = self:query()
      self:expect_op(")")
      return { node = "scalar_subquery", query = query, pos = token.pos }
    end
    self:next()
    local expr = self:expression()
    if self:accept_op(",") then
      local items = { expr }
      repeat
        items[#items + 1] = self:expression()
      until not self:accept_op(",")
      self:expect_op(")")
      return { node = "row", items = items, pos = token.pos }
    end
    self:expect_op(")")
    if expr.node == "column" then
      expr.closed = true
    end
    return expr
  elseif kind == "op" and value == "?" then
    self:unsupported("query parameters (?)", token.pos)
  elseif kind == "keyword" then
    if value == "null" then
      self:next()
      return { node = "null", pos = token.pos }
    elseif value == "true" or value == "false" then
      self:next()
      return { node = "boolean", value = value == "true", pos = token.pos }
    elseif value == "case" then
      self:next()
      return self:case_expression(token)
    elseif value == "cast" then
      self:next()
      self:expect_op("(")
      local expr = self:expression()
      self:expect("as")
      local type = self:type_name()
      self:expect_op(")")
      return { node = "cast", expr = expr, type = type, pos = token.pos }
    elseif value == "exists" then
      self:next()
      self:expect_op("(")
      local query = self:query()
      self:expect_op(")")
      return { node = "exists", query = query, pos = token.pos }
    elseif CURRENT[value] then
      self:next()
      if self:is_op("(") then
        self:unsupported(value:upper() .. " with a precision")
      end
      return { node = "current", what = value, pos = token.pos }
    elseif value == "extract" then
      self:next()
      self:expect_op("(")
      local field = self:identifier_or_keyword("a date field")
      self:expect("from")
      local expr = self:expression()
      self:expect_op(")")
      return { node = "call", name = field, args = { expr }, pos = token.pos }
    elseif value == "grouping" then
      self:unsupported("GROUPING()")
    end
    fail("unexpected " .. value:upper(), token.pos)
  elseif kind == "ident" then
    if not token.quoted then
      local after = self:peek(1)
      if value == "array" and self:is_op("[", 1) then
        self:next()
        self:next()
        local items = {}
        if not self:is_op("]") then
          items = self:expression_list()
        end
        self:expect_op("]")
        return { node = "array", items = items, pos = token.pos }
      end
      if value == "interval" and (after.kind == "string" or after.kind == "number"
        or self:is_op("-", 1) or self:is_op("+", 1)) then
        self:next()
        return self:interval(token)
      end
      if value == "try_cast" and self:is_op("(", 1) then
        self:next()
        self:expect_op("(")
        local expr = self:expression()
        self:expect("as")
        local type = self:type_name()
        self:expect_op(")")
        return { node = "cast", expr = expr, type = type, try = true, pos = token.pos }
      end
      -- typed literals: TIMESTAMP '...', DATE '...'
      if (value == "timestamp" or value == "date") and self:peek(1).kind == "string" then
        self:next()
        return { node = "typed_literal", type = value, value = self:next().value, pos = token.pos }
      end
      if value == "row" and self:is_op("(", 1) then
        self:next()
        self:expect_op("(")
        local items = self:expression_list()
        self:expect_op(")")
        return { node = "row", items = items, pos = token.pos }
      end
      if value == "position" and self:is_op("(", 1) then
        self:next()
        self:expect_op("(")
        local needle = self:concatenation()
        self:expect("in")
        local haystack = self:expression()
        self:expect_op(")")
        return { node = "call", name = "strpos", args = { haystack, needle }, pos = token.pos }
      end
      if value == "substring" and self:is_op("(", 1) then
        -- SUBSTRING(s FROM a FOR b) or a plain call
        local save = self.i
        self:next()
        self:next()
        local s = self:expression()
        if self:accept("from") then
          local args = { s, self:expression() }
          if self:accept("for") then
            args[3] = self:expression()
          end
          self:expect_op(")")
          return { node = "call", name = "substr", args = args, pos = token.pos }
        end
        self.i = save
      end
    end
    self:next()
    if self:is_op("(") then
      local name = value
      -- qualified function names are not used by Athena
      return self:call(name, token)
    end
    return { node = "column", parts = { value }, pos = token.pos }
  end
  fail("unexpected " .. describe(token), token.pos)
end

---------------------------------------------------------------------------

-- Parses one statement (a trailing ';' is allowed). Returns the AST, or nil and
-- { message =, pos = }.
function parser.parse(text)
  local ok, result = pcall(function()
    local self = setmetatable({ tokens = lexer.tokenize(text), i = 1 }, P)
    if not (self:is("select") or self:is("with") or self:is_op("(") or self:is("values")) then
      local token = self:peek()
      if token.kind == "eof" then
        fail("the query is empty", token.pos)
      end
      fail(string.format("only queries are supported, not %s statements",
        token.value:upper()), token.pos)
    end
    local query = self:query()
    self:accept_op(";")
    local token = self:peek()
    if token.kind ~= "eof" then
      fail("unexpected " .. describe(token) .. " after the end of the query", token.pos)
    end
    return query
  end)
  if ok then
    return result
  end
  if type(result) == "table" then
    return nil, result
  end
  error(result, 0)
end

return parser
