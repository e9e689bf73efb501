-- The local engine's tables: files found under --data, loaded once, with their partitions.
local support = require("sql.support")

local function record(time, name, extra)
  local r = { eventVersion = "1.05", eventTime = time, eventSource = "iam.amazonaws.com",
              eventName = name, awsRegion = "us-east-1", sourceIPAddress = "203.0.113.10",
              userIdentity = { type = "IAMUser", arn = "arn:aws:iam::123456789012:user/alice",
                               userName = "alice" } }
  for k, v in pairs(extra or {}) do
    r[k] = v
  end
  return r
end

describe("the local engine's tables", function()
  local data

  before_each(function()
    data = support.tempdir()
  end)

  after_each(function()
    support.remove(data)
  end)

  it("loads CloudTrail files ({\"Records\": [...]}), gzip or not, and JSON lines", function()
    local cjson = require("cjson")
    support.write(data, "cloudtrail/a.json", cjson.encode({ Records = {
      record("2020-02-13T21:00:01Z", "ListUsers"), record("2020-02-13T21:00:02Z", "ListRoles") } }),
      true)
    support.write(data, "cloudtrail/b.json", cjson.encode({ Records = {
      record("2020-02-13T21:00:03Z", "GetUser") } }), true)
    support.write(data, "cloudtrail/c.jsonl", support.lines({
      record("2020-02-13T21:00:04Z", "CreateUser"), record("2020-02-13T21:00:05Z", "DeleteUser") }))
    local r = support.run(support.engine(data),
      "SELECT eventname, useridentity.username FROM cloudtrail ORDER BY eventtime")
    assert.are.equal("SUCCEEDED", r.state, r.reason)
    assert.are.same({ { "ListUsers", "alice" }, { "ListRoles", "alice" }, { "GetUser", "alice" },
                      { "CreateUser", "alice" }, { "DeleteUser", "alice" } }, r.rows)
  end)

  it("turns key=value folders into partition columns, after the declared ones", function()
    support.write(data, "cloudtrail/region=us-east-1/year=2020/month=02/day=13/x.json",
      support.lines({ record("2020-02-13T21:00:01Z", "ListUsers") }))
    support.write(data, "cloudtrail/region=eu-west-1/year=2020/month=02/day=14/y.json",
      support.lines({ record("2020-02-14T01:00:01Z", "ListRoles") }))
    local engine = support.engine(data)
    local r = support.run(engine, [[
SELECT eventname, region, year, month, day, dt FROM cloudtrail
WHERE year = '2020' AND month = '02' AND day = '14']])
    assert.are.equal("SUCCEEDED", r.state, r.reason)
    assert.are.same({ "eventname", "region", "year", "month", "day", "dt" }, r.columns)
    assert.are.same({ { "ListRoles", "eu-west-1", "2020", "02", "14", "2020-02-14-01" } }, r.rows)
    local all = support.run(engine, "SELECT * FROM cloudtrail LIMIT 1")
    assert.are.same({ "tlsdetails", "dt", "region", "year", "month", "day" },
      { table.unpack(all.columns, #all.columns - 5) })
  end)

  it("takes dt from a dt= folder, and from eventTime only where there is none", function()
    support.write(data, "cloudtrail/dt=2020-02-13-22/late.json",
      support.lines({ record("2020-02-13T21:59:58Z", "ListUsers") }))
    support.write(data, "cloudtrail/loose.json",
      support.lines({ record("2020-02-13T20:15:00Z", "ListRoles") }))
    local r = support.run(support.engine(data), "SELECT eventname, dt FROM cloudtrail ORDER BY dt")
    assert.are.same({ { "ListRoles", "2020-02-13-20" }, { "ListUsers", "2020-02-13-22" } }, r.rows)
  end)

  it("resolves cloudtrail, \"db\".\"cloudtrail\" and db.cloudtrail to the same folder", function()
    support.write(data, "cloudtrail/x.json", support.lines({ record("2020-02-13T21:00:01Z", "A") }))
    local engine = support.engine(data)
    for _, name in ipairs({ "cloudtrail", '"streamalert"."cloudtrail"', "security.cloudtrail",
                            '"CloudTrail"' }) do
      local r = support.run(engine, "SELECT eventname FROM " .. name)
      assert.are.same({ { "A" } }, r.rows, name)
    end
  end)

  it("loads a table once for all the queries of the engine's life", function()
    support.write(data, "cloudtrail/x.json", support.lines({ record("2020-02-13T21:00:01Z", "A") }))
    local messages = {}
    local engine = support.engine(data, { log = function(level, message)
      messages[#messages + 1] = level .. ": " .. message:gsub(" in [%d.]+ s$", "")
    end })
    support.run(engine, "SELECT count(*) FROM cloudtrail")
    support.run(engine, "SELECT count(*) FROM cloudtrail")
    support.write(data, "cloudtrail/y.json", support.lines({ record("2020-02-13T21:00:02Z", "B") }))
    local r = support.run(engine, "SELECT count(*) FROM cloudtrail")
    assert.are.same({ { "1" } }, r.rows)
    assert.are.equal(1, #messages)
    assert.matches("^debug: loaded table cloudtrail: 1 records from 1 files %(%d+ bytes%)$",
      messages[1])
  end)

  it("reports its progress while a slow load goes on, and the total at the end", function()
    local cjson = require("cjson")
    local records = {}
    for i = 1, 5 do
      records[i] = record(string.format("2020-02-13T21:00:0%dZ", i), "E" .. i)
    end
    support.write(data, "cloudtrail/a.json", cjson.encode({ Records = records }))
    local messages = {}
    local engine = support.engine(data, { slow_load = 0, progress_every = 2,
      log = function(level, message)
        messages[#messages + 1] = level .. ": " .. message:gsub(" in [%d.]+ s$", "")
      end })
    support.run(engine, "SELECT count(*) FROM cloudtrail")
    assert.are.equal(3, #messages)
    assert.are.equal("info: loading table cloudtrail: 2 records so far", messages[1])
    assert.are.equal("info: loading table cloudtrail: 4 records so far", messages[2])
    assert.matches("^info: loaded table cloudtrail: 5 records from 1 files %(%d+ bytes%)$",
      messages[3])
  end)

  it("reports the bytes of the table's files as data scanned", function()
    local a = support.write(data, "cloudtrail/x.json",
      support.lines({ record("2020-02-13T21:00:01Z", "A") }))
    local b = support.write(data, "cloudtrail/y.json",
      support.lines({ record("2020-02-13T21:00:02Z", "B") }), true)
    local size = 0
    for _, path in ipairs({ a, b }) do
      local file = assert(io.open(path, "rb"))
      size = size + file:seek("end")
      file:close()
    end
    local r = support.run(support.engine(data), "SELECT count(*) FROM cloudtrail")
    assert.are.equal(size, r.status.data_scanned_in_bytes)
    assert.are.equal("number", math.type(r.status.execution_time_ms) and "number")
  end)

  it("reads a user table's declared schema from schema.json, with Athena's types", function()
    support.write(data, "logins/schema.json", [[{"columns": [
      {"name": "user", "type": "string"}, {"name": "attempts", "type": "bigint"},
      {"name": "score", "type": "double"}, {"name": "mfa", "type": "boolean"},
      {"name": "at", "type": "timestamp"}, {"name": "tags", "type": "array<string>"},
      {"name": "labels", "type": "map<string,bigint>"},
      {"name": "device", "type": "struct<os:string, trusted:boolean>"}]}]])
    support.write(data, "logins/day=13/a.json", table.concat({
      '{"User": "bob", "attempts": 7, "score": 0.25, "mfa": false, "at": "2020-02-13T21:11:12Z",'
        .. ' "tags": ["vpn", "new"], "labels": {"risk": 3},'
        .. ' "device": {"OS": "macOS", "trusted": true, "extra": 1}}',
      '{"user": "carol", "attempts": "2", "score": "1e3", "mfa": "True",'
        .. ' "at": "2020-02-13 21:24:40", "tags": [], "device": {"os": "linux"}}' }, "\n"))
    local r = support.run(support.engine(data), "SELECT * FROM logins ORDER BY user")
    assert.are.equal("SUCCEEDED", r.state, r.reason)
    assert.are.same({ "user", "attempts", "score", "mfa", "at", "tags", "labels", "device", "day" },
      r.columns)
    assert.are.same({
      { "bob", "7", "0.25", "false", "2020-02-13 21:11:12.000", "[vpn, new]", "{risk=3}",
        "{os=macOS, trusted=true}", "13" },
      { "carol", "2", "1000.0", "true", "2020-02-13 21:24:40.000", "[]", "NULL",
        "{os=linux, trusted=null}", "13" },
    }, r.rows)
  end)

  it("takes a built-in schema under another name with {\"like\": ...}", function()
    support.write(data, "trail/schema.json", [[{"like": "cloudtrail_streamalert"}]])
    support.write(data, "trail/dt=2020-02-13-21/x.json", support.lines({
      record("2020-02-13T21:00:01Z", "GetObject", { requestParameters = { bucketName = "logs",
        key = "a/b" }, readOnly = true }) }))
    local r = support.run(support.engine(data), [[
SELECT requestparameters['bucketName'] AS bucket, useridentity['userName'] AS who, readonly, dt
FROM trail]])
    assert.are.equal("SUCCEEDED", r.state, r.reason)
    assert.are.same({ { "logs", "alice", "true", "2020-02-13-21" } }, r.rows)
  end)

  it("reads a schema from conf/tables/NAME.json under the project root", function()
    local root = support.tempdir()
    support.write(root, "conf/tables/vpc.json", [[{"columns": [{"name": "srcaddr"},
      {"name": "bytes", "type": "bigint"}]}]])
    support.write(data, "vpc/x.json", support.lines({ { srcaddr = "10.0.0.1", bytes = 1500 },
      { srcaddr = "10.0.0.2", bytes = 40 } }))
    local r = support.run(support.engine(data, { root = root }),
      "SELECT sum(bytes) AS total, max(srcaddr) AS last FROM vpc")
    support.remove(root)
    assert.are.same({ { "1540", "10.0.0.2" } }, r.rows)
  end)

  it("fails a query on a table with no folder, naming it", function()
    local r = support.run(support.engine(data), "SELECT * FROM nowhere")
    assert.are.equal("FAILED", r.state)
    assert.are.equal("TABLE_NOT_FOUND: Table 'nowhere' does not exist (no folder " .. data
      .. "/nowhere)", r.reason)
  end)

  it("fails a query on a table with no schema, saying where to put one", function()
    support.write(data, "flows/x.json", "{}\n")
    local r = support.run(support.engine(data), "SELECT * FROM flows")
    assert.are.equal("FAILED", r.state)
    assert.are.equal(string.format('HIVE_METASTORE_ERROR: table "flows" has no schema: add '
      .. "%s/flows/schema.json (or conf/tables/flows.json), or name the folder after a built-in "
      .. "table (cloudtrail)", data), r.reason)
  end)

  it("fails on a malformed record, naming the file and the line", function()
    support.write(data, "cloudtrail/x.json", support.lines({ record("2020-02-13T21:00:01Z", "A") })
      .. '{"eventName": "B", "eventTime": }\n')
    local r = support.run(support.engine(data), "SELECT count(*) FROM cloudtrail")
    assert.are.equal("FAILED", r.state)
    assert.are.equal("HIVE_BAD_DATA: " .. data .. "/cloudtrail/x.json: line 2: invalid JSON",
      r.reason)
  end)

  it("fails on a partition folder whose value is not of the declared type, naming it", function()
    support.write(data, "t/schema.json", [[{"columns": [{"name": "a", "type": "string"}],
      "partitions": [{"name": "year", "type": "int"}]}]])
    support.write(data, "t/year=2020/x.json", '{"a": "x"}\n')
    support.write(data, "t/year=abc/x.json", '{"a": "y"}\n')
    local r = support.run(support.engine(data), "SELECT year + 1 FROM t")
    assert.are.equal("FAILED", r.state)
    assert.are.equal(string.format("HIVE_INVALID_PARTITION_VALUE: Invalid partition value 'abc' "
      .. "for INT partition key: year=abc (folder %s/t/year=abc)", data), r.reason)
  end)

  it("says a .gz file that is not gzip is not gzip", function()
    support.write(data, "cloudtrail/x.json.gz", support.lines({ record("2020-02-13T21:00:01Z",
      "A") }))
    local r = support.run(support.engine(data), "SELECT count(*) FROM cloudtrail")
    assert.are.equal("FAILED", r.state)
    assert.are.equal("HIVE_BAD_DATA: " .. data .. "/cloudtrail/x.json.gz: not in gzip format",
      r.reason)
  end)

  it("rejects a schema.json with an unknown type, naming the column", function()
    support.write(data, "t/schema.json", [[{"columns": [{"name": "a", "type": "varbinary"}]}]])
    support.write(data, "t/x.json", "{}\n")
    local r = support.run(support.engine(data), "SELECT * FROM t")
    assert.are.equal(string.format('HIVE_METASTORE_ERROR: %s/t/schema.json: columns[1] (a): '
      .. 'invalid type "varbinary": unknown type "varbinary"', data), r.reason)
  end)
end)

describe("the local engine's results", function()
  local data, engine

  setup(function()
    data = support.tempdir()
    local lines = {}
    for i = 1, 2500 do
      lines[i] = string.format('{"n": %d}', i)
    end
    support.write(data, "numbers/schema.json", [[{"columns": [{"name": "n", "type": "bigint"}]}]])
    support.write(data, "numbers/x.json", table.concat(lines, "\n"))
    engine = support.engine(data)
  end)

  teardown(function()
    engine:close()
    support.remove(data)
  end)

  it("hands rows back page by page, at most 1,000 a page, with a token for the next", function()
    local id = engine:start({ { name = "all", sql = "SELECT n FROM numbers ORDER BY n" } })[1].id
    local first = engine:results(id, nil, 1000)
    assert.are.same({ "n" }, first.columns)
    assert.are.equal(1000, #first.rows)
    assert.are.same({ "1" }, first.rows[1])
    assert.are.equal("1000", first.next_token)
    local second = engine:results(id, first.next_token, 5000)
    assert.are.equal(1000, #second.rows)
    assert.are.same({ "1001" }, second.rows[1])
    local third = engine:results(id, second.next_token, 1000)
    assert.are.equal(500, #third.rows)
    assert.are.same({ "2500" }, third.rows[500])
    assert.is_nil(third.next_token)
  end)

  it("serves a page asked for again (a retried pass), and can go back to the start", function()
    local id = engine:start({ { name = "all", sql = "SELECT n FROM numbers ORDER BY n" } })[1].id
    local first = engine:results(id, nil, 10)
    local second = engine:results(id, first.next_token, 10)
    assert.are.same(second, engine:results(id, first.next_token, 10))
    assert.are.same({ "11" }, second.rows[1])
    local again = engine:results(id, nil, 10)
    assert.are.same(first.rows, again.rows)
    assert.are.same({ "21" }, engine:results(id, "20", 10).rows[1])
  end)

  it("answers status for its own ids, an id not its own as FAILED, and stops queries", function()
    local started = engine:start({ { name = "ok", sql = "SELECT 1" },
                                   { name = "bad", sql = "SELECT nope FROM numbers" } })
    local statuses = engine:status({ started[1].id, started[2].id, "not-ours" })
    assert.are.equal("SUCCEEDED", statuses[started[1].id].state)
    assert.are.equal("FAILED", statuses[started[2].id].state)
    assert.are.equal("SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved",
      statuses[started[2].id].reason)
    local not_ours = "QUERY_NOT_FOUND: not-ours is not an execution id of the local engine"
      .. " (was this execution started with --engine athena?)"
    assert.are.same({ state = "FAILED", reason = not_ours, data_scanned_in_bytes = 0,
                      execution_time_ms = 0 }, statuses["not-ours"])
    assert.is_true(engine:stop(started[1].id))
    local _, err = engine:results("not-ours")
    assert.are.same({ code = "QUERY_NOT_FOUND", message = not_ours, retryable = false }, err)
  end)

  it("gives errors reading a result as final, since a new try would fail the same way",
    function()
      local started = engine:start({ { name = "ok", sql = "SELECT 1" },
                                     { name = "bad", sql = "SELECT nope FROM numbers" } })
      local page, err = engine:results(started[1].id, "page two", 10)
      assert.is_nil(page)
      assert.are.same({ code = "InvalidRequestException", message = "invalid next token page two",
                        retryable = false }, err)
      assert.are.equal("invalid next token page two", tostring(err))
      page, err = engine:results(started[2].id)
      assert.is_nil(page)
      assert.are.same({ code = "InvalidRequestException", retryable = false,
                        message = "query " .. started[2].id .. " is FAILED" }, err)
    end)

  it("gives a start repeated with the same token the same execution, as Athena does", function()
    local first = engine:start({ { name = "a", sql = "SELECT 1", token = "t-1" },
                                 { name = "b", sql = "SELECT 2" } })
    local again = engine:start({ { name = "a", sql = "SELECT 1", token = "t-1" },
                                 { name = "c", sql = "SELECT 3", token = "t-2" } })
    assert.are.equal(first[1].id, again[1].id)
    assert.are_not.equal(first[2].id, again[2].id)
    assert.are.same({ { "3" } }, engine:results(again[2].id).rows)
  end)

  it("is the engine the interface loads for the kind local", function()
    assert.are.equal(require("sq.engine.local"), require("sq.engine").load("local"))
    assert.are.equal("local", engine.kind)
  end)
end)
