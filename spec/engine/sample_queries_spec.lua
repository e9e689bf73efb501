-- Every shipped sample query, rendered for the demo clock and run by the local engine over
-- the shipped sample (samples/data), returns exactly the rows its story says it should.
local cjson = require("cjson")
local clock = require("sq.clock")
local params = require("sq.params")
local queries = require("sq.queries")
local template = require("sq.template")
local local_engine = require("sq.engine.local")

local ROOT = os.getenv("STREAMQUERY_ROOT") or "."
local CLOCK = "2020-02-13T22:06:20Z"

local set = assert(queries.load_dir(ROOT .. "/scheduled_queries"))
local engine = local_engine.new { data = ROOT .. "/samples/data",
                                  clock = clock.parse(CLOCK):epoch(), log = function() end }

-- Runs a sample query by name; returns the columns and the rows (NULL as "NULL").
local function run(name)
  local query = assert(set.by_name[name], "no sample query " .. name)
  local values = assert(params.compute(query, clock.parse(CLOCK)))
  local sql = assert(template.render(query.query, values))
  local id = engine:start({ { name = name, sql = sql } })[1].id
  local status = engine:status({ id })[id]
  assert.are.equal("SUCCEEDED", status.state, status.reason)
  local page = assert(engine:results(id, nil, 1000))
  local rows = {}
  for i, row in ipairs(page.rows) do
    rows[i] = {}
    for j, value in ipairs(row) do
      rows[i][j] = value == cjson.null and "NULL" or value
    end
  end
  return page.columns, rows
end

local ALICE = "arn:aws:iam::123456789012:user/alice"
local MALLORY = "arn:aws:iam::123456789012:user/mallory"
local DAVE = "arn:aws:sts::123456789012:assumed-role/security-analyst/dave"

describe("the shipped sample queries on the shipped sample at " .. CLOCK, function()
  it("athena_query_audit lists the analyst's three Athena queries of 21:00-21:59", function()
    local columns, rows = run("athena_query_audit")
    assert.are.same({ "eventtime", "arn", "sourceipaddress", "awsregion", "errorcode" }, columns)
    assert.are.same({
      { "2020-02-13T21:41:33Z", DAVE, "203.0.113.10", "us-east-1", "NULL" },
      { "2020-02-13T21:44:32Z", DAVE, "203.0.113.10", "us-east-1", "NULL" },
      { "2020-02-13T21:48:02Z", DAVE, "203.0.113.10", "us-east-1", "InvalidRequestException" },
    }, rows)
  end)

  it("access_denied_bursts finds the CI role probing 14 actions from 192.0.2.44", function()
    local columns, rows = run("access_denied_bursts")
    assert.are.same({ "arn", "sourceipaddress", "denied", "distinct_actions", "first_seen",
                      "last_seen" }, columns)
    assert.are.same({
      { "arn:aws:sts::123456789012:assumed-role/ci-deploy/gh-actions-4411", "192.0.2.44", "14",
        "14", "2020-02-13T21:31:13Z", "2020-02-13T21:35:49Z" },
    }, rows)
  end)

  it("console_login_failures finds bob's 7 failures and not carol's 2", function()
    local columns, rows = run("console_login_failures")
    assert.are.same({ "username", "sourceipaddress", "failures", "first_failure",
                      "last_failure" }, columns)
    assert.are.same({
      { "bob", "198.51.100.23", "7", "2020-02-13T21:11:12Z", "2020-02-13T21:16:54Z" },
    }, rows)
  end)

  it("root_account_activity lists root's own calls and leaves out the support service's",
    function()
      local _, rows = run("root_account_activity")
      local ip = "203.0.113.77"
      assert.are.same({
        { "signin.amazonaws.com", "ConsoleLogin", ip, "us-east-1", "1", "2020-02-13T21:42:03Z",
          "2020-02-13T21:42:03Z" },
        { "iam.amazonaws.com", "GetAccountSummary", ip, "us-east-1", "1", "2020-02-13T21:44:09Z",
          "2020-02-13T21:44:09Z" },
        { "iam.amazonaws.com", "ListUsers", ip, "us-east-1", "2", "2020-02-13T21:45:18Z",
          "2020-02-13T21:46:27Z" },
        { "iam.amazonaws.com", "ListAccessKeys", ip, "us-east-1", "1", "2020-02-13T21:47:36Z",
          "2020-02-13T21:47:36Z" },
        { "billing.amazonaws.com", "GetBillingData", ip, "us-east-1", "1", "2020-02-13T21:48:45Z",
          "2020-02-13T21:48:45Z" },
        { "iam.amazonaws.com", "GetAccountPasswordPolicy", ip, "us-east-1", "1",
          "2020-02-13T21:49:54Z", "2020-02-13T21:49:54Z" },
      }, rows)
    end)

  it("iam_policy_changes lists alice's housekeeping and mallory's escalation", function()
    local _, rows = run("iam_policy_changes")
    local office, mallory_ip = "203.0.113.10", "198.51.100.200"
    assert.are.same({
      { ALICE, "CreateUser", office, "1", "2020-02-13T19:14:02Z", "2020-02-13T19:14:02Z" },
      { ALICE, "AttachUserPolicy", office, "1", "2020-02-13T19:15:31Z", "2020-02-13T19:15:31Z" },
      { ALICE, "PutRolePolicy", office, "1", "2020-02-13T19:21:50Z", "2020-02-13T19:21:50Z" },
      { ALICE, "AddUserToGroup", office, "1", "2020-02-13T20:31:15Z", "2020-02-13T20:31:15Z" },
      { MALLORY, "AttachUserPolicy", mallory_ip, "1", "2020-02-13T20:38:40Z",
        "2020-02-13T20:38:40Z" },
      { ALICE, "DetachUserPolicy", office, "1", "2020-02-13T21:33:12Z", "2020-02-13T21:33:12Z" },
    }, rows)
  end)

  it("new_access_keys lists the key alice made for deploy and mallory's own", function()
    local _, rows = run("new_access_keys")
    assert.are.same({
      { ALICE, "203.0.113.10", "1", "2020-02-13T19:52:08Z", "2020-02-13T19:52:08Z" },
      { MALLORY, "198.51.100.200", "1", "2020-02-13T21:03:17Z", "2020-02-13T21:03:17Z" },
    }, rows)
  end)

  it("secret_bulk_reads finds the reporting role's 16 reads", function()
    local _, rows = run("secret_bulk_reads")
    assert.are.same({
      { "arn:aws:sts::123456789012:assumed-role/reporting-lambda/reporting-lambda", "16", "1",
        "2020-02-13T19:03:11Z", "2020-02-13T21:33:26Z" },
    }, rows)
  end)

  it("trail_tampering finds StopLogging, a denied DeleteTrail and UpdateTrail", function()
    local _, rows = run("trail_tampering")
    local mallory_ip = "198.51.100.200"
    assert.are.same({
      { "StopLogging", MALLORY, mallory_ip, "us-east-1", "NULL", "1", "2020-02-13T20:44:12Z" },
      { "DeleteTrail", MALLORY, mallory_ip, "us-east-1", "AccessDenied", "1",
        "2020-02-13T20:44:51Z" },
      { "UpdateTrail", ALICE, "203.0.113.10", "us-east-1", "NULL", "1", "2020-02-13T21:29:40Z" },
    }, rows)
  end)

  it("covers every shipped sample query", function()
    local names = {}
    for _, query in ipairs(set.list) do
      names[#names + 1] = query.name
    end
    table.sort(names)
    assert.are.same({ "access_denied_bursts", "athena_query_audit", "console_login_failures",
                      "iam_policy_changes", "new_access_keys", "root_account_activity",
                      "secret_bulk_reads", "trail_tampering" }, names)
  end)
end)
