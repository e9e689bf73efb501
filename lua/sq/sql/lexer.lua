-- Tokenizer for Athena (Trino) SQL.
--
-- lexer.tokenize(text) returns a list of tokens, each
--   { kind = "ident" | "keyword" | "string" | "number" | "op" | "eof",
--     value = ..., pos = byte offset, quoted = bool (identifiers) }
-- Unquoted identifiers and keywords are lower-cased; quoted identifiers
-- are too, as Athena's catalog is case-insensitive. Errors are raised as
-- tables { message =, pos = } so that the caller can name the position.
local lexer = {}

-- Trino's reserved words: never an identifier unless quoted. Other words of the
-- grammar (LIMIT, OVER, ROWS, LAST ...) are identifiers that the parser recognizes
-- where they can appear.
local RESERVED = {}
for word in ([[
  alter and as between by case cast constraint create cross cube current_date
  current_time current_timestamp deallocate delete describe distinct drop else end
  escape except execute exists extract false for from full group grouping having
  in inner insert intersect into is join left like localtime localtimestamp
  natural not null on or order outer prepare recursive right rollup select
  table then true uescape union unnest using values when where with
]]):gmatch("%S+") do
  RESERVED[word] = true
end
lexer.RESERVED = RESERVED

local OPERATORS = {
  "->", "||", "<=", ">=", "<>", "!=", "=>",
  "=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".", ";", "?",
}

local function fail(message, pos)
  error({ message = message, pos = pos }, 0)
end

-- Reads a quoted run starting at pos (on the quote); a doubled quote is one quote.
local function quoted(text, pos, quote)
  local parts, i = {}, pos + 1
  while true do
    local j = text:find(quote, i, true)
    if not j then
      return nil
    end
    parts[#parts + 1] = text:sub(i, j - 1)
    if text:sub(j + 1, j + 1) == quote then
      parts[#parts + 1] = quote
      i = j + 2
    else
      return table.concat(parts), j + 1
    end
  end
end

function lexer.tokenize(text)
  local tokens, pos, n = {}, 1, #text
  local function push(kind, value, start, extra)
    local token = { kind = kind, value = value, pos = start }
    if extra then
      token.quoted = true
    end
    tokens[#tokens + 1] = token
  end
  while pos <= n do
    local c = text:sub(pos, pos)
    if c:match("%s") then
      pos = text:find("[^%s]", pos) or n + 1
    elseif text:sub(pos, pos + 1) == "--" then
      pos = (text:find("\n", pos, true) or n) + 1
    elseif text:sub(pos, pos + 1) == "/*" then
      local close = text:find("*/", pos + 2, true)
      if not close then
        fail("unterminated comment", pos)
      end
      pos = close + 2
    elseif c == "'" then
      local value, after = quoted(text, pos, "'")
      if not value then
        fail("unterminated string literal", pos)
      end
      push("string", value, pos)
      pos = after
    elseif c == '"' or c == "`" then
      local value, after = quoted(text, pos, c)
      if not value then
        fail("unterminated quoted identifier", pos)
      end
      if value == "" then
        fail("zero-length delimited identifier", pos)
      end
      push("ident", value:lower(), pos, true)
      pos = after
    elseif c:match("[%a_]") then
      local word = text:match("^[%w_@$]+", pos)
      local lower = word:lower()
      push(RESERVED[lower] and "keyword" or "ident", lower, pos)
      pos = pos + #word
    elseif c:match("%d") or (c == "." and text:sub(pos + 1, pos + 1):match("%d")) then
      local number = text:match("^%d*%.?%d*", pos)
      local exponent = text:match("^[eE][+-]?%d+", pos + #number)
      if exponent then
        number = number .. exponent
      end
      if text:sub(pos + #number, pos + #number):match("[%a_]") then
        fail("invalid number " .. text:match("^[%w_.]+", pos), pos)
      end
      push("number", number, pos)
      pos = pos + #number
    else
      local matched
      for _, op in ipairs(OPERATORS) do
        if text:sub(pos, pos + #op - 1) == op then
          matched = op
          break
        end
      end
      if not matched then
        fail(string.format("unexpected character %q", c), pos)
      end
      push("op", matched, pos)
      pos = pos + #matched
    end
  end
  push("eof", "end of input", n + 1)
  return tokens
end

-- Line and column (1-based) of a byte offset, for messages.
function lexer.where(text, pos)
  local line, last = 1, 0
  for i in text:sub(1, pos - 1):gmatch("()\n") do
    line, last = line + 1, i
  end
  return line, pos - last
end

return lexer
