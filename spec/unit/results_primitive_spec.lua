-- host.results: the rows' JSON objects it writes straight from a GetQueryResults body are,
-- byte for byte, what the records wrote before it, when the body was decoded by cjson and each
-- row encoded again (sq.records' row_json of an array). Bodies are generated from a fixed seed,
-- with every spelling of a string JSON allows.
local cjson = require("cjson")
local records = require("sq.records")
local results = require("host.results")

-- What the Athena engine and the records made of a body before host.results: the columns,
-- each row's JSON (by cjson, through sq.records) and the token. (A null cell, which
-- host.results takes as a missing value, made the engine fail; here it is missing too.)
local function decoded_page(body, first)
  local response = cjson.decode(body)
  local set = response.ResultSet or {}
  local columns = {}
  for i, column in ipairs((set.ResultSetMetadata or {}).ColumnInfo or {}) do
    columns[i] = column.Name
  end
  local result = records.result({ name = "q" }, columns)
  local rows, source = {}, set.Rows or {}
  for r = first and 2 or 1, #source do
    local data, row = source[r].Data or {}, {}
    for c = 1, #columns do
      local datum = data[c]
      local value = type(datum) == "table" and datum.VarCharValue or nil
      row[c] = value == nil and cjson.null or value
    end
    rows[#rows + 1] = result:row_json(row)
  end
  local token = response.NextToken
  return { columns = columns, rows = rows, next_token = token ~= cjson.null and token or nil }
end

local random = math.random

-- Pieces of a JSON string's text and, for some, other spellings of the same characters.
local PIECES = {
  "a", "Z", "0", " ", "bob", "2020-02-13 21:00:00.000", "'", "<>&", "~",
  "/", "\\/", "\\u002f", "\\u002F",
  '\\"', "\\u0022", "\\\\", "\\u005c", "\\u005C",
  "\\b", "\\u0008", "\\f", "\\u000c", "\\n", "\\u000A", "\\r", "\\u000d", "\\t", "\\u0009",
  "\\u0000", "\\u0001", "\\u000b", "\\u001f", "\\u001F", "\\u007f", "\127",
  "\\u0041", "\\u007e", "\\u0080", "\\u00e9", "\\u00C9", "\\u07ff", "\\u0800", "\\u20ac",
  "\\uffff", "\\ud83d\\ude00", "\\uD800\\uDC00", "\\udbff\\udfff",
  "é", "€", "😀", "\u{10FFFF}", "\xff", "\xc3", "\x80\x80",
}

-- A JSON string (text, quotes included) of up to n pieces.
local function json_string(n)
  local parts = {}
  for i = 1, random(0, n) do
    parts[i] = PIECES[random(#PIECES)]
  end
  return '"' .. table.concat(parts) .. '"'
end

-- Some white space, or none.
local function space()
  local choices = { "", "", "", " ", "\n", "\t", "\r\n  " }
  return choices[random(#choices)]
end

-- An object from { key, value } pairs, in a random order, with extra members.
local function object(members, extra)
  local list = {}
  for _, member in ipairs(members) do
    list[#list + 1] = member
  end
  if extra and random(3) == 1 then
    list[#list + 1] = { '"Extra"', '{"x":[1,-2.5e3,true,null,"}"]}' }
  end
  for i = #list, 2, -1 do
    local j = random(i)
    list[i], list[j] = list[j], list[i]
  end
  local parts = {}
  for i, member in ipairs(list) do
    parts[i] = space() .. member[1] .. space() .. ":" .. space() .. member[2] .. space()
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- A cell: a value, a missing value ({}), or null.
local function cell()
  local roll = random(10)
  if roll == 1 then
    return "{}"
  elseif roll == 2 then
    return "null"
  elseif roll == 3 then
    return object({ { '"VarCharValue"', "null" } })
  end
  return object({ { '"VarCharValue"', json_string(6) } }, true)
end

-- A GetQueryResults body of 'columns' columns and up to 'rows' rows (one more on a first page:
-- the header row), with a token or none.
local function body(columns, rows)
  local info, data_rows = {}, {}
  for c = 1, columns do
    info[c] = object({ { '"Name"', json_string(3) }, { '"Type"', '"varchar"' } }, true)
  end
  for r = 1, random(0, rows) do
    local cells = {}
    for _ = 1, columns + random(-1, 1) do
      cells[#cells + 1] = cell()
    end
    data_rows[r] = object({ { '"Data"', "[" .. table.concat(cells, ",") .. "]" } }, true)
  end
  local set = object({
    { '"Rows"', "[" .. table.concat(data_rows, "," .. space()) .. "]" },
    { '"ResultSetMetadata"',
      object({ { '"ColumnInfo"', "[" .. table.concat(info, ",") .. "]" } }) },
  }, true)
  local members = { { '"ResultSet"', set }, { '"UpdateCount"', "0" } }
  if random(2) == 1 then
    members[#members + 1] = { '"NextToken"', random(2) == 1 and json_string(4) or "null" }
  end
  return space() .. object(members, true) .. space()
end

describe("host.results.page", function()
  it("writes every row as cjson wrote it from the decoded body, over 300 generated bodies",
    function()
      math.randomseed(20261204)
      local compared = 0
      for n = 1, 300 do
        local text, first = body(random(0, 6), 12), n % 2 == 0
        local expected = decoded_page(text, first)
        local page, err = results.page(text, first)
        assert.is_nil(err, text)
        assert.are.same(expected.columns, page.columns, text)
        assert.are.same(expected.rows, page.rows, text)
        assert.are.equal(expected.next_token, page.next_token, text)
        compared = compared + #page.rows
      end
      assert.is_true(compared > 1000, "enough rows were compared")
    end)

  it("writes a row with every spelling of every escape as cjson does", function()
    local strings = {}
    for i, piece in ipairs(PIECES) do
      strings[i] = '{"VarCharValue":"' .. piece .. '"}'
    end
    local names = string.rep('{"Name":"c"},', #PIECES - 1) .. '{"Name":"c"}'
    local text = '{"ResultSet":{"ResultSetMetadata":{"ColumnInfo":[' .. names
      .. ']},"Rows":[{"Data":[' .. table.concat(strings, ",") .. "]}]}}"
    local page = assert(results.page(text, false))
    assert.are.equal(decoded_page(text, false).rows[1], page.rows[1])
    local opening = '{"c":"a","c":"Z","c":"0","c":" ","c":"bob",'
    assert.are.equal(opening, page.rows[1]:sub(1, #opening))
    assert.truthy(page.rows[1]:find([["c":"\/","c":"\/","c":"\/","c":"\/","c":"\"","c":"\"",]],
      1, true))
    assert.truthy(page.rows[1]:find([["c":"\u0000","c":"\u0001","c":"\u000b","c":"\u001f",]]
      .. [["c":"\u001f","c":"\u007f","c":"\u007f","c":"A",]], 1, true))
  end)

  it("fails where cjson fails on a string", function()
    for _, bad in ipairs({ "\\x", "\\u12", "\\ud83d", "\\ude00", "\\ud83d\\u0041", "\\" }) do
      local text = '{"NextToken":"' .. bad .. '"}'
      assert.is_false(pcall(cjson.decode, text), bad)
      local page, err = results.page(text, true)
      assert.is_nil(page, bad)
      assert.are.equal("string", type(err), bad)
    end
  end)

  it("refuses what cjson lets through but JSON does not", function()
    assert.are.same({ nil, "a control character in a string (JSON wants it escaped) (at byte 16)" },
      { results.page('{"NextToken":"a\tb"}', true) })
    assert.are.same({ nil, "expected a JSON value (at byte 14)" },
      { results.page('{"NextToken":+1}', true) })
    assert.are.same({ nil, "expected ',' or '}' in an object (at byte 17)" },
      { results.page('{"UpdateCount":0x10}', true) })
  end)
end)
