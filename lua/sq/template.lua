-- SQL templates: {name} is replaced by the value of parameter "name";
-- {{ and }} stand for literal braces. Anything else with a brace in it is
-- an error, so that a typo never reaches Athena.
--
--   template.placeholders("dt = '{utcdate}' AND x = '{{a}}'") --> { "utcdate" }
--   template.render("dt = '{utcdate}'", { utcdate = "2020-02-13" })
--     --> "dt = '2020-02-13'"
--
-- A placeholder spelled datehour... takes the value of utcdatehour... when
-- the values hold only that spelling (see sq.params).
local params = require("sq.params")

local template = {}

-- Line and column (1-based) of byte position pos in text.
local function position(text, pos)
  local line, column = 1, pos
  for newline in text:sub(1, pos - 1):gmatch("()\n") do
    line = line + 1
    column = pos - newline
  end
  return line, column
end

-- Splits text into pieces: strings (literal text, braces already undone)
-- and { name = "..." } tables for placeholders. Returns the list, or nil
-- and a message saying where the template is wrong.
local function parse(text)
  if type(text) ~= "string" then
    return nil, "the query must be a string, got " .. type(text)
  end
  local pieces, literal = {}, {}
  local pos = 1
  while true do
    local start = text:find("[{}]", pos)
    if start == nil then
      literal[#literal + 1] = text:sub(pos)
      break
    end
    literal[#literal + 1] = text:sub(pos, start - 1)
    local brace = text:sub(start, start)
    if text:sub(start + 1, start + 1) == brace then
      literal[#literal + 1] = brace -- {{ or }}
      pos = start + 2
    elseif brace == "}" then
      local line, column = position(text, start)
      return nil, string.format("line %d, column %d of the query: a lone '}'; write }} for a "
        .. "literal brace", line, column)
    else
      local name, after = text:match("^{([%a_][%w_]*)}()", start)
      if name == nil then
        local line, column = position(text, start)
        local close = text:find("}", start, true)
        local what = close and string.format("{%s} is not a parameter name",
          text:sub(start + 1, close - 1)) or "'{' is never closed"
        return nil, string.format("line %d, column %d of the query: %s; write {{ for a "
          .. "literal brace", line, column, what)
      end
      pieces[#pieces + 1] = table.concat(literal)
      literal = {}
      pieces[#pieces + 1] = { name = name }
      pos = after
    end
  end
  pieces[#pieces + 1] = table.concat(literal)
  return pieces
end

-- The names of the placeholders in text, each once, in order of first use.
-- Returns the list, or nil and a message when the template is malformed.
function template.placeholders(text)
  local pieces, err = parse(text)
  if pieces == nil then
    return nil, err
  end
  local names, seen = {}, {}
  for _, piece in ipairs(pieces) do
    if type(piece) == "table" and not seen[piece.name] then
      seen[piece.name] = true
      names[#names + 1] = piece.name
    end
  end
  return names
end

-- Replaces every placeholder of text by its value. Returns the string, or
-- nil and a message naming the first placeholder without a value.
function template.render(text, values)
  local pieces, err = parse(text)
  if pieces == nil then
    return nil, err
  end
  local out = {}
  for _, piece in ipairs(pieces) do
    if type(piece) == "table" then
      local value = values[piece.name]
      if value == nil then
        value = values[params.canonical(piece.name)]
      end
      if value == nil then
        return nil, string.format("placeholder {%s} has no value", piece.name)
      end
      out[#out + 1] = tostring(value)
    else
      out[#out + 1] = piece
    end
  end
  return table.concat(out)
end

return template
