-- The local AWS test server itself (spec/servers/aws.js), driven with curl,
-- whose --aws-sigv4 is a signer independent of both the server's and ours.
local cjson = require("cjson")
local servers = require("support.servers")
local clock = require("host.clock")

local ROOT = os.getenv("STREAMQUERY_ROOT") or "."
local SHARED = ROOT .. "/../shared"
local TEMP_KEY, TEMP_SECRET, TEMP_TOKEN = "ASIATESTTEMPORARY1", "temporary/secret+key", "tok/en+="
local TOKEN = ("0123456789abcdef"):rep(2)

-- Starts a query and returns its id, asserting that the start was accepted.
local function start_query(s, sql, token)
  local status, body = s:call("AmazonAthena.StartQueryExecution",
    { QueryString = sql, ClientRequestToken = token or TOKEN, WorkGroup = "primary" })
  assert.are.equal(200, status)
  return body.QueryExecutionId
end

-- The values of a GetQueryResults page, NULL as false (cjson has no nil in lists).
local function values(page)
  local rows = {}
  for _, row in ipairs(page.ResultSet.Rows) do
    local cells = {}
    for i, datum in ipairs(row.Data) do
      cells[i] = datum.VarCharValue or false
    end
    rows[#rows + 1] = cells
  end
  return rows
end

-- Runs a command and returns its output and whether it succeeded.
local function run(command)
  local pipe = assert(io.popen(command .. " 2>&1"))
  local out = pipe:read("a")
  return out, pipe:close()
end

describe("the local AWS test server", function()
  local s

  setup(function()
    s = servers.start({ "--kinesis", "--kinesis-create-ms", "0",
      "--credentials", "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      "--credentials", TEMP_KEY .. ":" .. TEMP_SECRET .. ":" .. TEMP_TOKEN,
      "--web-identity-token", "web-identity-token-of-the-test",
      "--container-token", "container-secret" })
  end)

  teardown(function()
    s:stop()
  end)

  before_each(function()
    s:reset()
  end)

  describe("signature check", function()
    it("accepts a request that curl signed with the right secret", function()
      local status, body, headers = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN })
      assert.are.equal(200, status)
      assert.truthy(body.QueryExecutionId:match("^%x+%-%x+%-%x+%-%x+%-%x+$"))
      assert.are.equal("application/x-amz-json-1.1", headers["content-type"])
      assert.truthy(headers["x-amzn-requestid"])
      assert.are.same({ AKIDEXAMPLE = 1 }, s:stats().signed_by)
    end)

    it("rejects a wrong secret with 403 InvalidSignatureException", function()
      local status, body, headers = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN },
        { secret_access_key = "not-the-secret" })
      assert.are.equal(403, status)
      assert.are.equal("InvalidSignatureException", body.__type)
      assert.are.equal("application/x-amz-json-1.1", headers["content-type"])
      assert.truthy(headers["x-amzn-requestid"])
      local stats = s:stats()
      assert.are.equal(1, stats.signature_failures)
      assert.are.same({}, s:queries())
    end)

    it("rejects an unknown access key with 403 UnrecognizedClientException", function()
      local status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        { access_key_id = "AKIDUNKNOWN" })
      assert.are.equal(403, status)
      assert.are.equal("UnrecognizedClientException", body.__type)
    end)

    it("rejects an unsigned request with 400 MissingAuthenticationTokenException", function()
      local status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        { unsigned = true })
      assert.are.equal(400, status)
      assert.are.equal("MissingAuthenticationTokenException", body.__type)
    end)

    it("rejects a credential scoped to another region or service", function()
      local status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        { region = "eu-west-1" })
      assert.are.equal(403, status)
      assert.are.equal("InvalidSignatureException", body.__type)
      status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        { service = "kinesis" })
      assert.are.equal(403, status)
      assert.are.equal("InvalidSignatureException", body.__type)
    end)

    it("requires the session token of temporary credentials as X-Amz-Security-Token", function()
      local as_temporary = { access_key_id = TEMP_KEY, secret_access_key = TEMP_SECRET }
      local status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        as_temporary)
      assert.are.equal(403, status)
      assert.are.equal("UnrecognizedClientException", body.__type)
      as_temporary.session_token = "some-other-token"
      status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        as_temporary)
      assert.are.equal(403, status)
      assert.are.equal("UnrecognizedClientException", body.__type)
      as_temporary.session_token = TEMP_TOKEN
      status = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN }, as_temporary)
      assert.are.equal(200, status)
      local stats = s:stats()
      assert.are.same({ TEMP_KEY }, stats.security_tokens_seen)
      assert.are.equal(1, stats.requests_with_security_token)
      assert.is_true(stats.recent[3].security_token_signed)
    end)

    it("answers an unknown X-Amz-Target with 400 UnknownOperationException", function()
      local status, body = s:call("DynamoDB_20120810.ListTables", {}, { service = "dynamodb" })
      assert.are.equal(400, status)
      assert.are.equal("UnknownOperationException", body.__type)
    end)

    it("agrees with every path-normalizing case of the SigV4 test suite", function()
      local out, ok = run("node " .. ROOT .. "/spec/servers/test/sigv4_vectors.js "
        .. SHARED .. "/testdata/sigv4/v4")
      assert.are.equal("checked 28 vectors, 0 failed\n", out)
      assert.is_true(ok)
    end)
  end)

  describe("faults", function()
    it("fail the next matching requests `times` times, then stop", function()
      s:faults({ { target = "AmazonAthena.GetQueryExecution", action = "status", status = 503,
                   times = 2 } })
      local statuses = {}
      for i = 1, 3 do
        local status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
        statuses[i] = status .. " " .. body.__type
      end
      assert.are.same({ "503 ServiceUnavailable", "503 ServiceUnavailable",
                        "400 InvalidRequestException" }, statuses)
      assert.are.equal(2, s:stats().faults_fired)
    end)

    it("skip `after` requests and throttle with the service's own code", function()
      s:faults({ { target = "AmazonAthena.StartQueryExecution", action = "throttle", after = 1,
                   times = 1 },
                 { target = "Kinesis_20131202.ListStreams", action = "throttle", times = 1 },
                 { target = "AmazonAthena.GetQueryExecution", action = "throttle",
                   code = "TooManyRequestsException", times = 1 } })
      local sql = { QueryString = "SELECT 1", ClientRequestToken = TOKEN }
      assert.are.equal(200, (s:call("AmazonAthena.StartQueryExecution", sql)))
      local status, body = s:call("AmazonAthena.StartQueryExecution", sql)
      assert.are.same({ 400, "ThrottlingException" }, { status, body.__type })
      assert.are.equal(200, (s:call("AmazonAthena.StartQueryExecution", sql)))
      status, body = s:call("Kinesis_20131202.ListStreams", {})
      assert.are.same({ 400, "ProvisionedThroughputExceededException" }, { status, body.__type })
      status, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
      assert.are.same({ 400, "TooManyRequestsException" }, { status, body.__type })
      assert.are.equal(3, s:stats().throttled)
    end)

    it("reset the connection without an answer, or leave the request hanging", function()
      s:faults({ { action = "reset", times = 1 },
                 { action = "hang", times = 1 } })
      local ok, err = pcall(s.call, s, "AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
      assert.is_false(ok)
      assert.truthy(err:find("curl failed: curl: (56)", 1, true) or
                    err:find("curl failed: curl: (52)", 1, true), err)
      ok, err = pcall(s.call, s, "AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" },
        { max_time = 0.5 })
      assert.is_false(ok)
      assert.truthy(err:find("curl failed: curl: (28)", 1, true), err)
      local recent = s:stats().recent
      assert.are.same({ "reset", "hang" }, { recent[1].status, recent[2].status })
    end)

    it("refuse a rule with an unknown action, adding nothing", function()
      local ok, err = pcall(s.faults, s, { { action = "status", status = 500 },
                                           { action = "explode" } })
      assert.is_false(ok)
      assert.truthy(err:find("fault rule action must be one of", 1, true), err)
      assert.are.same({}, s:control("GET", "/__control/faults").rules)
    end)
  end)

  describe("Athena", function()
    it("moves a scripted query from QUEUED to RUNNING to SUCCEEDED, one poll at a time", function()
      s:scripts({ { match = "FROM logins", queued_polls = 1, running_polls = 2,
                    data_scanned = 4783293, execution_ms = 12374,
                    result = { columns = { "username", "time" },
                               rows = { { "bob", "1" }, { "alice", cjson.null },
                                        { "eve", "3" } } } } })
      local id = start_query(s, "SELECT * FROM logins")
      local states = {}
      for i = 1, 4 do
        local _, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
        states[i] = body.QueryExecution.Status.State
      end
      local _, batch = s:call("AmazonAthena.BatchGetQueryExecution", { QueryExecutionIds = { id } })
      local execution = batch.QueryExecutions[1]
      assert.are.same({ "QUEUED", "RUNNING", "RUNNING", "SUCCEEDED" }, states)
      assert.are.equal(4783293, execution.Statistics.DataScannedInBytes)
      assert.are.equal(12374, execution.Statistics.EngineExecutionTimeInMillis)
      assert.are.equal("SELECT * FROM logins", execution.Query)
      assert.are.equal("primary", execution.WorkGroup)
      assert.are.equal(5, s:queries()[1].polls)

      local status, page = s:call("AmazonAthena.GetQueryResults",
        { QueryExecutionId = id, MaxResults = 2 })
      assert.are.equal(200, status)
      assert.are.same({ { "username", "time" }, { "bob", "1" } }, values(page))
      assert.are.equal("time", page.ResultSet.ResultSetMetadata.ColumnInfo[2].Name)
      assert.are.equal(0, page.UpdateCount)
      status, page = s:call("AmazonAthena.GetQueryResults",
        { QueryExecutionId = id, MaxResults = 2, NextToken = page.NextToken })
      assert.are.equal(200, status)
      assert.are.same({ { "alice", false }, { "eve", "3" } }, values(page))
      assert.is_nil(page.NextToken)
    end)

    it("fails a query with the scripted reason and serves it no results", function()
      s:scripts({ { match = "broken", final = "FAILED", reason = "SYNTAX_ERROR: line 1:8" } })
      local id = start_query(s, "SELECT broken")
      local _, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      assert.are.equal("FAILED", body.QueryExecution.Status.State)
      assert.are.equal("SYNTAX_ERROR: line 1:8", body.QueryExecution.Status.StateChangeReason)
      local status, err = s:call("AmazonAthena.GetQueryResults", { QueryExecutionId = id })
      assert.are.same({ 400, "InvalidRequestException" }, { status, err.__type })
    end)

    it("fails the first starts of a query as scripted by start_error", function()
      s:scripts({ { match = "busy",
                    start_error = { code = "TooManyRequestsException", times = 2 } } })
      local codes = {}
      for i = 1, 3 do
        local status, body = s:call("AmazonAthena.StartQueryExecution",
          { QueryString = "SELECT busy", ClientRequestToken = TOKEN })
        codes[i] = status == 200 and "started" or body.__type
      end
      assert.are.same({ "TooManyRequestsException", "TooManyRequestsException", "started" }, codes)
      assert.are.equal(1, #s:queries())
    end)

    it("returns the same id for a repeated token, refuses it for another query", function()
      local first = start_query(s, "SELECT 1")
      assert.are.equal(first, start_query(s, "SELECT 1"))
      local status, body = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 2", ClientRequestToken = TOKEN })
      assert.are.same({ 400, "InvalidRequestException" }, { status, body.__type })
      assert.are.equal(1, #s:queries())
    end)

    it("refuses a ClientRequestToken shorter than 32 characters", function()
      local status, body = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = "short" })
      assert.are.same({ 400, "InvalidRequestException" }, { status, body.__type })
    end)

    it("lets BatchGetQueryExecution take 50 ids but not 51, unknown ones unprocessed", function()
      local ids = {}
      for i = 1, 51 do
        ids[i] = ("00000000-0000-0000-0000-%012d"):format(i)
      end
      local status, body = s:call("AmazonAthena.BatchGetQueryExecution",
        { QueryExecutionIds = ids })
      assert.are.same({ 400, "InvalidRequestException" }, { status, body.__type })
      ids[51] = nil
      status, body = s:call("AmazonAthena.BatchGetQueryExecution", { QueryExecutionIds = ids })
      assert.are.equal(200, status)
      assert.are.equal(50, #body.UnprocessedQueryExecutionIds)
      assert.are.equal(ids[50], body.UnprocessedQueryExecutionIds[50].QueryExecutionId)
    end)

    it("lets GetQueryResults take MaxResults 1000 but not 1001, nor a token of its own", function()
      local id = start_query(s, "SELECT 1")
      s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      local status, body = s:call("AmazonAthena.GetQueryResults",
        { QueryExecutionId = id, MaxResults = 1001 })
      assert.are.same({ 400, "InvalidRequestException" }, { status, body.__type })
      status, body = s:call("AmazonAthena.GetQueryResults",
        { QueryExecutionId = id, NextToken = "made-up" })
      assert.are.same({ 400, "InvalidRequestException" }, { status, body.__type })
      status, body = s:call("AmazonAthena.GetQueryResults",
        { QueryExecutionId = id, MaxResults = 1000 })
      assert.are.equal(200, status)
      assert.are.same({ { "result" } }, values(body))
    end)

    it("generates rows page by page: 1,000-row pages, the header in the first", function()
      s:scripts({ { result = { generate = { rows = 2500, columns = 3, width = 12 } } } })
      local id = start_query(s, "SELECT generated")
      s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      local sizes, pages, token = {}, {}, nil
      repeat
        local _, page = s:call("AmazonAthena.GetQueryResults",
          { QueryExecutionId = id, NextToken = token })
        pages[#pages + 1] = values(page)
        sizes[#sizes + 1] = #page.ResultSet.Rows
        token = page.NextToken
      until token == nil
      assert.are.same({ 1000, 1000, 501 }, sizes)
      assert.are.same({ "c1", "c2", "c3" }, pages[1][1])
      assert.are.same({ "r1c1r1c1r1c1", "r1c2r1c2r1c2", "r1c3r1c3r1c3" }, pages[1][2])
      assert.are.same({ "r2500c1r2500", "r2500c2r2500", "r2500c3r2500" }, pages[3][501])
      assert.are.same({ "r1000c1r1000", "r1999c2r1999" }, { pages[2][1][1], pages[2][1000][2] })
    end)

    it("serves the real CloudTrail records, dotted paths into nested fields", function()
      s:scripts({ { match = "cloudtrail", result = { cloudtrail = {
        path = SHARED .. "/data/cloudtrail/events.jsonl",
        columns = { "eventtime", "eventname", "useridentity.arn", "sourceipaddress",
                    "errorcode" } } } } })
      local id = start_query(s, "SELECT * FROM cloudtrail")
      s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      local count, first, token = 0, nil, nil
      repeat
        local _, page = s:call("AmazonAthena.GetQueryResults",
          { QueryExecutionId = id, NextToken = token })
        local rows = values(page)
        first = first or rows[2]
        count = count + #rows
        token = page.NextToken
      until token == nil
      assert.are.equal(595 + 1, count)
      assert.are.same({ "2015-03-18T19:04:42Z", "DeleteFunction",
                        "arn:aws:iam::999999999999:user/myUserName", "127.0.0.1", false }, first)
    end)

    it("cancels a running query with StopQueryExecution, twice without harm", function()
      s:scripts({ { running_polls = 5 } })
      local id = start_query(s, "SELECT slow")
      s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      assert.are.equal(200, (s:call("AmazonAthena.StopQueryExecution", { QueryExecutionId = id })))
      assert.are.equal(200, (s:call("AmazonAthena.StopQueryExecution", { QueryExecutionId = id })))
      local _, body = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
      assert.are.equal("CANCELLED", body.QueryExecution.Status.State)
    end)

    it("throttles StartQueryExecution past the configured rate", function()
      s:control("POST", "/__control/config", { athena_rate = 0.001 })
      local first = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN })
      local status, body = s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 2", ClientRequestToken = TOKEN:upper() })
      assert.are.same({ 200, 400, "ThrottlingException" }, { first, status, body.__type })
      assert.are.equal(1, s:stats().athena_rate_throttled)
    end)
  end)

  describe("Kinesis through kinesalite", function()
    -- Creates a stream and waits (a bounded number of polls) until it is ACTIVE.
    local function create_stream(name)
      assert.are.equal(200, (s:call("Kinesis_20131202.CreateStream",
        { StreamName = name, ShardCount = 1 })))
      for _ = 1, 200 do
        local _, body = s:call("Kinesis_20131202.DescribeStreamSummary", { StreamName = name })
        if body.StreamDescriptionSummary.StreamStatus == "ACTIVE" then
          return
        end
        clock.sleep(0.01)
      end
      error("stream " .. name .. " never became ACTIVE")
    end

    -- Every record's data (base64) in the stream's only shard.
    local function read_back(name)
      local _, shards = s:call("Kinesis_20131202.ListShards", { StreamName = name })
      local _, iterator = s:call("Kinesis_20131202.GetShardIterator", { StreamName = name,
        ShardId = shards.Shards[1].ShardId, ShardIteratorType = "TRIM_HORIZON" })
      local _, got = s:call("Kinesis_20131202.GetRecords",
        { ShardIterator = iterator.ShardIterator })
      local data = {}
      for i, record in ipairs(got.Records) do
        data[i] = record.Data
      end
      return data
    end

    it("answers CreateStream and ListStreams through the signature check", function()
      create_stream("through-proxy")
      local status, body = s:call("Kinesis_20131202.ListStreams", {})
      assert.are.equal(200, status)
      assert.are.same({ "through-proxy" }, body.StreamNames)
      status, body = s:call("Kinesis_20131202.ListStreams", {}, { secret_access_key = "wrong" })
      assert.are.same({ 403, "InvalidSignatureException" }, { status, body.__type })
    end)

    it("fails every third record of PutRecords in place and stores the others", function()
      create_stream("partial")
      s:faults({ { action = "partial", fail_every = 3, times = 1 } })
      local data = { "cmVjb3JkLTE=", "cmVjb3JkLTI=", "cmVjb3JkLTM=", "cmVjb3JkLTQ=",
                     "cmVjb3JkLTU=", "cmVjb3JkLTY=" }   -- "record-1" ... "record-6"
      local records = {}
      for i = 1, 6 do
        records[i] = { Data = data[i], PartitionKey = "k" .. i }
      end
      local status, body = s:call("Kinesis_20131202.PutRecords",
        { StreamName = "partial", Records = records })
      assert.are.equal(200, status)
      assert.are.equal(2, body.FailedRecordCount)
      local codes = {}
      for i, record in ipairs(body.Records) do
        codes[i] = record.ErrorCode or (record.SequenceNumber and "ok")
      end
      assert.are.same({ "ok", "ok", "ProvisionedThroughputExceededException", "ok", "ok",
                        "ProvisionedThroughputExceededException" }, codes)
      assert.are.same({ data[1], data[2], data[4], data[5] }, read_back("partial"))
    end)
  end)

  describe("credential sources", function()
    -- A form-encoded STS call; signed (service sts) unless `unsigned`.
    local function sts(form, unsigned)
      local config = { 'request = "POST"', 'url = "' .. s.url .. '/"' }
      if not unsigned then
        config[#config + 1] = 'aws-sigv4 = "aws:amz:us-east-1:sts"'
        config[#config + 1] = 'user = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"'
      end
      config[#config + 1] = 'header = "Content-Type: application/x-www-form-urlencoded"'
      return s:curl(config, form)
    end

    it("gives AssumeRole credentials that this server then accepts", function()
      local status, xml = sts("Action=AssumeRole&Version=2011-06-15&RoleSessionName=spec"
        .. "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fstreamquery")
      assert.are.equal(200, status)
      local key = xml:match("<AccessKeyId>(.-)</AccessKeyId>")
      local secret = xml:match("<SecretAccessKey>(.-)</SecretAccessKey>")
      local token = xml:match("<SessionToken>(.-)</SessionToken>")
      assert.truthy(xml:find("<Arn>arn:aws:sts::123456789012:assumed-role/streamquery/spec</Arn>",
        1, true))
      assert.truthy(xml:match("<Expiration>%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ</Expiration>"))
      assert.are.equal(200, (s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN },
        { access_key_id = key, secret_access_key = secret, session_token = token })))
      local call = s:stats().sts_calls[1]
      assert.are.same({ "AssumeRole", "arn:aws:iam::123456789012:role/streamquery", "spec",
                        "AKIDEXAMPLE" },
        { call.action, call.role_arn, call.role_session_name, call.signed_by })
    end)

    it("refuses an unsigned AssumeRole with the query protocol's XML error", function()
      local status, xml = sts("Action=AssumeRole&RoleSessionName=spec"
        .. "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fstreamquery", true)
      assert.are.equal(403, status)
      assert.are.equal("MissingAuthenticationToken", xml:match("<Code>(.-)</Code>"))
    end)

    it("gives web identity credentials only for the configured token", function()
      local form = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=pod"
        .. "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpod&WebIdentityToken="
      local status, xml = sts(form .. "web-identity-token-of-the-test", true)
      assert.are.equal(200, status)
      assert.truthy(xml:match("<AccessKeyId>ASIA%w+</AccessKeyId>"))
      status, xml = sts(form .. "another-token", true)
      assert.are.same({ 400, "InvalidIdentityToken" }, { status, xml:match("<Code>(.-)</Code>") })
    end)

    it("serves instance metadata credentials only with an IMDSv2 token", function()
      local path = "/latest/meta-data/iam/security-credentials/"
      local status = s:curl({ 'url = "' .. s.url .. path .. '"' })
      assert.are.equal(401, status)
      local token
      status, token = s:curl({ 'request = "PUT"', 'url = "' .. s.url .. '/latest/api/token"',
        'header = "X-aws-ec2-metadata-token-ttl-seconds: 60"' })
      assert.are.equal(200, status)
      local with_token = 'header = "X-aws-ec2-metadata-token: ' .. token .. '"'
      local role
      status, role = s:curl({ 'url = "' .. s.url .. path .. '"', with_token })
      assert.are.same({ 200, "streamquery-test-role" }, { status, role })
      local _, text = s:curl({ 'url = "' .. s.url .. path .. role .. '"', with_token })
      local c = cjson.decode(text)
      assert.are.equal("Success", c.Code)
      assert.are.equal(200, (s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN },
        { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
          session_token = c.Token })))
    end)

    it("serves container credentials only with the configured Authorization", function()
      local status = s:curl({ 'url = "' .. s.url .. '/creds"', 'header = "Authorization: no"' })
      assert.are.equal(401, status)
      local _, text = s:curl({ 'url = "' .. s.url .. '/creds"',
        'header = "Authorization: container-secret"' })
      local c = cjson.decode(text)
      assert.truthy(c.AccessKeyId:match("^ASIA"))
      assert.are.equal(200, (s:call("AmazonAthena.StartQueryExecution",
        { QueryString = "SELECT 1", ClientRequestToken = TOKEN },
        { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
          session_token = c.Token })))
    end)
  end)

  it("counts connections at the server: one per curl run, never more open than one", function()
    for _ = 1, 3 do
      s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
    end
    local stats = s:stats()
    assert.are.same({ 3, 1, 3 }, { stats.connections, stats.max_open_connections, stats.requests })
  end)
end)

describe("the local AWS test server over TLS", function()
  local s

  setup(function()
    s = servers.start({ "--tls" })
  end)

  teardown(function()
    s:stop()
  end)

  it("is verified with the CA of its ready line, and not without it", function()
    assert.truthy(s.url:match("^https://127%.0%.0%.1:%d+$"))
    local status = s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
    assert.are.equal(400, status)
    local ca = s.ca_file
    s.ca_file = nil
    local ok, err = pcall(s.call, s, "AmazonAthena.GetQueryExecution", { QueryExecutionId = "x" })
    s.ca_file = ca
    assert.is_false(ok)
    assert.truthy(err:find("curl: (60)", 1, true), err)
  end)
end)
