-- sq.records with rows given as the text of their JSON object (what the Athena engine gives):
-- the same records, byte for byte, as from the same rows given as arrays of values.
local cjson = require("cjson")
local records = require("sq.records")

local INFO = { name = "q", description = "d", query = "SELECT 1", query_parameters = {},
  data_scanned_in_bytes = 1, execution_time_ms = 2, tags = {}, query_execution_id = "id",
  console_link = "link" }

-- Every record of a plan of rows, rendered.
local function rendered(result, rows, first, last)
  local plan, out = result:plan(rows, first, last), {}
  for k, chunk in ipairs(plan) do
    out[k] = result:render(chunk, k, k == #plan, false)
  end
  return out
end

-- The rows as texts, written by row_json from the arrays.
local function as_texts(result, rows)
  local texts = {}
  for i, row in ipairs(rows) do
    texts[i] = result:row_json(row)
  end
  return texts
end

describe("records of rows given as JSON text", function()
  it("uses a row's text as it is", function()
    local result = records.result(INFO, { "a", "b" })
    assert.are.equal('{"b":"2","a":"1"}', result:row_json('{"b":"2","a":"1"}'))
  end)

  it("are the records of the same rows given as arrays, over several records", function()
    local headers = { "user", "n/1", 'say "hi"' }
    local result = records.result(INFO, headers)
    local rows = {}
    for i = 1, 3000 do
      rows[i] = { "user" .. i .. string.rep("é/\\", i % 200), tostring(i),
                  i % 3 == 0 and cjson.null or "\n\t\0\127" }
    end
    local texts = as_texts(result, rows)
    local from_arrays = rendered(result, rows)
    assert.is_true(#from_arrays > 1, "the rows need several records")
    assert.are.same(from_arrays, rendered(result, texts))
    assert.are.same(rendered(result, rows, 1001, 2000), rendered(result, texts, 1001, 2000))
  end)

  it("cuts a row too large for a record as it cuts the same row given as an array", function()
    local result = records.result(INFO, { "small", "huge" })
    local row = { "keep", string.rep("é", 700000) }
    local text = result:row_json(row)
    local from_text = result:plan({ text })
    assert.are.same(result:plan({ row }), from_text)
    assert.is_true(from_text[1].truncated)
    local record = cjson.decode(result:render(from_text[1], 1, true, false))
    assert.are.equal("keep", record.data.rows[1].small)
    assert.is_true(#record.data.rows[1].huge > 1000000)
    assert.truthy(utf8.len(record.data.rows[1].huge), "the cut value is still valid UTF-8")
  end)

  it("cuts a row of escapes, nulls and two columns of the same name in header order", function()
    local result = records.result(INFO, { "a", "b", "a", "c" })
    local row = { '"x":"y"', cjson.null, string.rep('\\"/\n', 300000), "}" }
    local text = result:row_json(row)
    assert.are.same(result:plan({ row }), result:plan({ text }))
    local cut = result:plan({ text })[1][1]
    assert.are.equal('{"a":"\\"x\\":\\"y\\"","b":null,"a":"', cut:sub(1, 33))
    assert.are.equal('","c":"}"}', cut:sub(-10))
  end)

  it("cuts a row of only long values", function()
    local result = records.result(INFO, { "x", "y" })
    local row = { string.rep("a", 600000), string.rep("b", 600000) }
    assert.are.same(result:plan({ row }), result:plan({ result:row_json(row) }))
  end)
end)
