-- Result records (schema 1.0.0) and their split into Kinesis-sized parts.
local cjson = require("cjson")
local records = require("sq.records")

local info = {
  name = "failed_logins", description = "Failed console logins",
  query = "SELECT 1", query_parameters = { utcdatehour = "2020-02-13-22" },
  data_scanned_in_bytes = 4783293, execution_time_ms = 12374, tags = { "hourly" },
  query_execution_id = "70e5c1d2-0000-4000-8000-000000000001",
  console_link = records.console_link("eu-west-1", "70e5c1d2-0000-4000-8000-000000000001"),
}

describe("records", function()
  it("renders a result that fits in one record as part 1 of 1", function()
    local result = records.result(info, { "username", "time" })
    local chunks = result:plan({ { "bob", "1" }, { "sally", cjson.null } })
    assert.are.equal(1, #chunks)
    local record = cjson.decode(result:render(chunks[1], 1, true))
    assert.are.same({
      streamquery_schema_version = "1.0.0",
      execution = {
        name = "failed_logins", description = "Failed console logins", query = "SELECT 1",
        query_parameters = { utcdatehour = "2020-02-13-22" },
        data_scanned_in_bytes = 4783293, execution_time_ms = 12374, tags = { "hourly" },
        query_execution_id = "70e5c1d2-0000-4000-8000-000000000001",
        console_link = "https://eu-west-1.console.aws.amazon.com/athena/home?region=eu-west-1"
          .. "#/query-editor/history/70e5c1d2-0000-4000-8000-000000000001",
        part = { index = 1, last = true },
      },
      data = { headers = { "username", "time" },
               rows = { { username = "bob", time = "1" },
                        { username = "sally", time = cjson.null } },
               count = 2 },
    }, record)
  end)

  it("keeps the header order in every row and writes empty lists as arrays", function()
    local result = records.result({ name = "q", tags = {} }, { "b", "a" })
    assert.are.equal('{"b":"2","a":"1"}', result:row_json({ "2", "1" }))
    local text = result:render({}, 1, true)
    assert.truthy(text:find('"tags":[]', 1, true))
    assert.truthy(text:find('"rows":[],"count":0', 1, true))
  end)

  it("splits a large result into records under 1 MiB that hold every row once", function()
    local result = records.result(info, { "id", "payload" })
    local rows = {}
    for i = 1, 3000 do
      rows[i] = { tostring(i), string.rep("x", 1000) }
    end
    local chunks = result:plan(rows)
    assert.are.equal(3, #chunks)
    local seen = 0
    for i, chunk in ipairs(chunks) do
      local text = result:render(chunk, i, i == #chunks)
      assert.is_true(#text + #result:partition_key(i) <= records.MAX_RECORD_BYTES)
      local record = cjson.decode(text)
      assert.are.same({ index = i, last = i == #chunks }, record.execution.part)
      for _, row in ipairs(record.data.rows) do
        seen = seen + 1
        assert.are.equal(tostring(seen), row.id)
      end
      assert.are.equal(#record.data.rows, record.data.count)
    end
    assert.are.equal(3000, seen)
  end)

  it("plans the same records again when it starts from a record boundary", function()
    local result = records.result(info, { "payload" })
    local rows = {}
    for i = 1, 2500 do
      rows[i] = { string.rep(string.char(97 + i % 26), 900 + i % 7) }
    end
    local all = result:plan(rows)
    local from_second = result:plan(rows, #all[1] + 1)
    assert.are.same({ table.unpack(all, 2) }, from_second)
  end)

  it("cuts the longest values of a row too large for one record and says truncated", function()
    local result = records.result(info, { "small", "huge" })
    local chunks = result:plan({ { "keep", string.rep("é", 700000) } })
    local text = result:render(chunks[1], 1, true)
    assert.is_true(#text <= records.MAX_RECORD_BYTES - records.MAX_KEY_BYTES)
    local record = cjson.decode(text)
    assert.is_true(record.data.truncated)
    assert.are.equal("keep", record.data.rows[1].small)
    assert.is_true(#record.data.rows[1].huge > 1000000)
    assert.truthy(utf8.len(record.data.rows[1].huge), "the cut value is still valid UTF-8")
  end)

  it("makes an error record with the description and empty data", function()
    local text, key = records.error_record({ name = "q", tags = { "hourly" },
      query_execution_id = "id-1", error = "FAILED: Table not found" })
    local record = cjson.decode(text)
    assert.are.same({ description = "FAILED: Table not found" }, record.execution.error)
    assert.are.same({ headers = {}, rows = {}, count = 0 }, record.data)
    assert.are.equal("q:1", key)
  end)

  it("links to the console of China regions on their own domain", function()
    assert.are.equal("https://cn-north-1.console.amazonaws.cn/athena/home?region=cn-north-1"
      .. "#/query-editor/history/x", records.console_link("cn-north-1", "x"))
  end)
end)

describe("conf/schemas/streamquery.json", function()
  it("is the classifier entry for version 1 records, matching their three keys", function()
    local f = assert(io.open(os.getenv("STREAMQUERY_ROOT") .. "/conf/schemas/streamquery.json"))
    local schema = cjson.decode(f:read("a"))
    f:close()
    local entry = schema["streamquery:version1"]
    assert.are.equal("json", entry.parser)
    assert.are.same({ streamquery_schema_version = "string", execution = {}, data = {} },
      entry.schema)
    assert.are.same({ streamquery_schema_version = { "1.*.*" } },
      entry.configuration.log_patterns)
    local record = cjson.decode((records.error_record({ name = "q", error = "x" })))
    for key in pairs(record) do
      assert.is_not_nil(entry.schema[key], key)
    end
    assert.truthy(record.streamquery_schema_version:match("^1%.%d+%.%d+$"))
  end)
end)
