-- host.kinesis: PutRecords bodies within the service limits.
local cjson = require("cjson")
local kinesis = require("host.kinesis")

local function b64decode(s)
  local f = assert(io.popen("printf %s '" .. s .. "' | base64 -d"))
  local out = f:read("a")
  f:close()
  return out
end

describe("host.kinesis.requests", function()
  it("base64-encodes the data and keeps each record's key", function()
    local requests = kinesis.requests("my-stream", { "hello", '{"a":"\\u00e9"}' }, { "k:1", "k:2" })
    assert.are.equal(1, #requests)
    local body = cjson.decode(requests[1].body)
    assert.are.equal("my-stream", body.StreamName)
    assert.are.equal("aGVsbG8=", body.Records[1].Data)
    assert.are.equal("k:1", body.Records[1].PartitionKey)
    assert.are.equal('{"a":"\\u00e9"}', b64decode(body.Records[2].Data))
    assert.are.same({ 1, 2 }, requests[1].indices)
    assert.are.equal(5 + 3 + 14 + 3, requests[1].bytes)
  end)

  it("puts at most 500 records in one request", function()
    local datas, keys = {}, {}
    for i = 1, 1201 do
      datas[i], keys[i] = "r" .. i, "k"
    end
    local requests = kinesis.requests("s", datas, keys)
    assert.are.same({ 500, 500, 201 }, { #requests[1].indices, #requests[2].indices,
                                         #requests[3].indices })
    assert.are.equal(1201, requests[3].indices[201])
  end)

  it("puts at most 5 MiB of data and keys in one request", function()
    local datas, keys = {}, {}
    for i = 1, 12 do
      datas[i], keys[i] = string.rep("x", 1024 * 1024 - 10), "key:" .. i
    end
    local requests = kinesis.requests("s", datas, keys)
    assert.are.same({ 5, 5, 2 }, { #requests[1].indices, #requests[2].indices,
                                   #requests[3].indices })
    for _, request in ipairs(requests) do
      assert.is_true(request.bytes <= 5 * 1024 * 1024)
    end
  end)

  it("sends only the chosen records when given their indices", function()
    local requests = kinesis.requests("s", { "a", "b", "c" }, { "1", "2", "3" }, { 3, 1 })
    assert.are.same({ 3, 1 }, requests[1].indices)
    local body = cjson.decode(requests[1].body)
    assert.are.equal("Yw==", body.Records[1].Data)
  end)

  it("refuses a record over 1 MiB and an empty key, naming the record", function()
    assert.has_error(function()
      kinesis.requests("s", { "a", string.rep("x", 1024 * 1024) }, { "1", "2" })
    end, "kinesis.requests: record 2 is 1048577 bytes with its key, over the 1 MiB Kinesis limit")
    assert.has_error(function() kinesis.requests("s", { "a" }, { "" }) end,
      "kinesis.requests: record 1: partition key of 0 bytes (1 to 256 allowed)")
  end)
end)
