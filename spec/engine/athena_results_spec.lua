-- The Athena engine's result pages: read by host.results from GetQueryResults' body, each row
-- the text of its JSON object, byte for byte what the records made of the decoded body before.
-- Against the local test server (spec/servers), and a fake client for what it never sends.
local cjson = require("cjson")
local athena = require("sq.engine.athena")
local aws = require("sq.aws")
local records = require("sq.records")
local servers = require("support.servers")
local support = require("aws.support")

local COLUMNS = { "user", "a/b", 'say "hi"', "é" }
local ROWS = {
  { "bob", "1", cjson.null, "x" },
  { "http://example.com/a?b=c", '"quoted" \\ back', "tab\there\nnew line\r", "\0\1\31\127" },
  { "é€😀", "", cjson.null, cjson.null },
  { "</script>", "{\"VarCharValue\":\"not a cell\"}", "[1,2]", "null" },
}

-- A client of the test server.
local function client_of(server)
  return aws.new{ env = support.env_with_keys(server), sleep = function() end,
                  random = function() return 0.5 end }
end

-- Starts one query the server answers with 'result' and waits until it has succeeded.
local function succeeded_query(server, engine, result)
  server:scripts({ { match = "-- results spec", result = result } })
  local started = engine:start({ { name = "q", sql = "SELECT 1 -- results spec",
                                   token = string.rep("t", 32) } })
  local id = assert(started[1].id, cjson.encode(started[1]))
  for _ = 1, 20 do
    local status = engine:status({ id })[id]
    if status and status.state == "SUCCEEDED" then
      return id
    end
  end
  error("the query did not succeed")
end

-- The page as the engine made it before host.results: the body decoded by cjson, each row
-- encoded again by sq.records.
local function decoded_page(client, id, next_token, max_rows)
  local response = assert(client:call("athena", "AmazonAthena.GetQueryResults",
    { QueryExecutionId = id, NextToken = next_token, MaxResults = max_rows }))
  local columns = {}
  for i, column in ipairs(response.ResultSet.ResultSetMetadata.ColumnInfo) do
    columns[i] = column.Name
  end
  local result, rows = records.result({ name = "q" }, columns), {}
  for r = next_token == nil and 2 or 1, #response.ResultSet.Rows do
    local data, row = response.ResultSet.Rows[r].Data, {}
    for c = 1, #columns do
      local value = data[c] and data[c].VarCharValue
      row[c] = value == nil and cjson.null or value
    end
    rows[#rows + 1] = result:row_json(row)
  end
  return { columns = columns, rows = rows, next_token = response.NextToken }
end

describe("the Athena engine's results", function()
  local server, client, engine

  setup(function()
    server = servers.start({})
    client = client_of(server)
    engine = athena.new{ client = client, database = "db" }
  end)

  teardown(function()
    client:close()
    server:stop()
  end)

  before_each(function()
    server:reset()
  end)

  it("are the rows' JSON objects, as the records wrote them from the decoded body", function()
    local id = succeeded_query(server, engine, { columns = COLUMNS, rows = ROWS })
    local page = assert(engine:results(id, nil, 1000))
    assert.are.same(COLUMNS, page.columns)
    assert.are.same(decoded_page(client, id, nil, 1000), page)
    assert.are.same({
      '{"user":"bob","a\\/b":"1","say \\"hi\\"":null,"é":"x"}',
      '{"user":"http:\\/\\/example.com\\/a?b=c","a\\/b":"\\"quoted\\" \\\\ back",'
        .. '"say \\"hi\\"":"tab\\there\\nnew line\\r","é":"\\u0000\\u0001\\u001f\\u007f"}',
      '{"user":"é€😀","a\\/b":"","say \\"hi\\"":null,"é":null}',
      '{"user":"<\\/script>","a\\/b":"{\\"VarCharValue\\":\\"not a cell\\"}",'
        .. '"say \\"hi\\"":"[1,2]","é":"null"}',
    }, page.rows)
    assert.is_nil(page.next_token)
  end)

  it("leave out the header row of the first page only, page after page", function()
    local id = succeeded_query(server, engine, { generate = { rows = 5, columns = 2, width = 6 } })
    local first = assert(engine:results(id, nil, 2))
    assert.are.same({ '{"c1":"r1c1r1","c2":"r1c2r1"}' }, first.rows)
    assert.are.same(decoded_page(client, id, nil, 2), first)
    local second = assert(engine:results(id, first.next_token, 2))
    assert.are.same({ '{"c1":"r2c1r2","c2":"r2c2r2"}', '{"c1":"r3c1r3","c2":"r3c2r3"}' },
      second.rows)
    assert.are.same(decoded_page(client, id, first.next_token, 2), second)
    local third = assert(engine:results(id, second.next_token, 2))
    assert.are.same({ '{"c1":"r4c1r4","c2":"r4c2r4"}', '{"c1":"r5c1r5","c2":"r5c2r5"}' },
      third.rows)
    assert.is_nil(third.next_token)
  end)

  it("is an empty page for a result of no rows", function()
    local id = succeeded_query(server, engine, { generate = { rows = 0, columns = 1, width = 3 } })
    assert.are.same({ columns = { "c1" }, rows = {} }, engine:results(id, nil, 1000))
  end)

  it("fails as before when Athena refuses the call", function()
    local id = succeeded_query(server, engine, { generate = { rows = 1, columns = 1, width = 3 } })
    local page, err = engine:results(id, "not-a-token", 1000)
    assert.is_nil(page)
    assert.are.same({ code = "InvalidRequestException",
      message = "InvalidRequestException: NextToken was not issued for this query",
      retryable = false }, err)
  end)

  it("fails, not to be retried, on a body that is not a GetQueryResults response", function()
    local calls = {}
    local fake = { call = function(_, service, target, body, options)
      calls[#calls + 1] = { service, target, body, options }
      return '{"ResultSet":{"Rows":[{"Data":[{"VarCharValue":7}]}]}}'
    end }
    local page, err = athena.new{ client = fake }:results("id-1", nil, 10)
    assert.is_nil(page)
    assert.are.same({ code = "InvalidResponse", message = "InvalidResponse: GetQueryResults: "
      .. "ResultSet.Rows[1].Data[1].VarCharValue is a number, not a string (at byte 48)",
      retryable = false }, err)
    assert.are.same({ { "athena", "AmazonAthena.GetQueryResults",
      { QueryExecutionId = "id-1", MaxResults = 10 }, { raw = true } } }, calls)
  end)
end)
