-- Detections run by the local engine over the real CloudTrail records in
-- ../shared/data/cloudtrail return the same rows as jq computes from the raw JSON.
local cjson = require("cjson")
local local_engine = require("sq.engine.local")

local ROOT = os.getenv("STREAMQUERY_ROOT") or "."
local EVENTS = ROOT .. "/../shared/data/cloudtrail/events.jsonl"

-- A data folder whose cloudtrail/ table is the shared file (linked, never copied).
local data = os.tmpname()
os.remove(data)
assert(os.execute(string.format("mkdir -p '%s/cloudtrail' && ln -s '%s' '%s/cloudtrail/'", data,
  EVENTS, data)))
local engine = local_engine.new { data = data, clock = 1581631580, log = function() end }

local function sql_rows(sql)
  local id = engine:start({ { name = "real", sql = sql } })[1].id
  local status = engine:status({ id })[id]
  assert.are.equal("SUCCEEDED", status.state, status.reason)
  local rows, token = {}, nil
  repeat
    local page = assert(engine:results(id, token, 1000))
    for _, row in ipairs(page.rows) do
      local copy = {}
      for i, value in ipairs(row) do
        copy[i] = value == cjson.null and "NULL" or value
      end
      rows[#rows + 1] = copy
    end
    token = page.next_token
  until not token
  return rows
end

-- jq over all the records (slurped); the program must print a list of rows.
local function jq_rows(program)
  local path = os.tmpname()
  local file = assert(io.open(path, "w"))
  file:write(program)
  file:close()
  local pipe = assert(io.popen(string.format("jq -c -s -f '%s' '%s'", path, EVENTS)))
  local text = pipe:read("a")
  pipe:close()
  os.remove(path)
  local rows = {}
  for i, row in ipairs(cjson.decode(text)) do
    rows[i] = {}
    for j, value in ipairs(row) do
      rows[i][j] = value == cjson.null and "NULL" or (math.type(value) == "float"
        and string.format("%d", value) or tostring(value))
    end
  end
  return rows
end

describe("the local engine over the real CloudTrail records", function()
  teardown(function()
    engine:close()
    os.execute(string.format("rm -rf '%s'", data))
  end)

  it("counts denied calls per principal and address as jq does", function()
    local sql = sql_rows([[
SELECT useridentity.arn AS arn, sourceipaddress, count(*) AS denied
FROM "streamalert"."cloudtrail"
WHERE errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation',
                    'Client.UnauthorizedOperation')
  AND useridentity.arn IS NOT NULL
GROUP BY useridentity.arn, sourceipaddress
HAVING count(*) >= 2
ORDER BY denied DESC, arn, sourceipaddress]])
    local jq = jq_rows([=[
[.[] | select(.errorCode == "AccessDenied" or .errorCode == "AccessDeniedException"
              or .errorCode == "UnauthorizedOperation"
              or .errorCode == "Client.UnauthorizedOperation")
     | select(.userIdentity.arn != null)]
| group_by([.userIdentity.arn, .sourceIPAddress])
| map(select(length >= 2) | [.[0].userIdentity.arn, .[0].sourceIPAddress, length])
| sort_by([-.[2], .[0], .[1]])]=])
    assert.is_true(#sql >= 3)
    assert.are.same(jq, sql)
  end)

  it("lists root's own activity (the CIS filter) as jq does", function()
    local sql = sql_rows([[
SELECT eventtime, eventsource, eventname, sourceipaddress
FROM cloudtrail
WHERE useridentity.type = 'Root' AND useridentity.invokedby IS NULL
  AND eventtype <> 'AwsServiceEvent'
ORDER BY eventtime, eventname]])
    local jq = jq_rows([=[
[.[] | select(.userIdentity.type == "Root" and .userIdentity.invokedBy == null
              and .eventType != null and .eventType != "AwsServiceEvent")
     | [.eventTime, .eventSource, .eventName, .sourceIPAddress]]
| sort_by([.[0], .[2]])]=])
    assert.is_true(#sql >= 2)
    assert.are.same(jq, sql)
  end)

  it("counts console sign-ins per user and outcome, read from the JSON responseelements",
    function()
      local sql = sql_rows([[
SELECT useridentity.username AS username,
  json_extract_scalar(responseelements, '$.ConsoleLogin') AS outcome, count(*) AS logins
FROM cloudtrail
WHERE eventname = 'ConsoleLogin'
GROUP BY 1, 2
ORDER BY username, outcome]])
      local jq = jq_rows([=[
[.[] | select(.eventName == "ConsoleLogin")]
| group_by([.userIdentity.userName, .responseElements.ConsoleLogin])
| map([.[0].userIdentity.userName, .[0].responseElements.ConsoleLogin, length])
| sort_by([(.[0] == null), .[0], (.[1] == null), .[1]])]=])
      assert.is_true(#sql >= 3)
      assert.are.same(jq, sql)
    end)

  it("derives the dt partition from eventTime for successful IAM calls as jq does", function()
    local sql = sql_rows([[
SELECT dt, eventname, count(*) AS calls
FROM cloudtrail
WHERE eventsource = 'iam.amazonaws.com' AND errorcode IS NULL
GROUP BY dt, eventname
ORDER BY dt, eventname]])
    local jq = jq_rows([=[
[.[] | select(.eventSource == "iam.amazonaws.com" and .errorCode == null)
     | {dt: (.eventTime[0:10] + "-" + .eventTime[11:13]), name: .eventName}]
| group_by([.dt, .name]) | map([.[0].dt, .[0].name, length])]=])
    assert.is_true(#sql >= 5)
    assert.are.same(jq, sql)
  end)

  it("unnests the resources of every record as jq iterates them (non-objects are NULL)", function()
    local sql = sql_rows([[
SELECT r.type AS type, count(*) AS resources, count(DISTINCT eventname) AS events
FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r)
WHERE r.type IS NOT NULL
GROUP BY r.type
ORDER BY resources DESC, type]])
    local jq = jq_rows([=[
[.[] | .eventName as $name | (if (.resources | type) == "array" then .resources[] else empty end)
     | select(type == "object" and .type != null)
     | {type: .type, name: $name}]
| group_by(.type) | map([.[0].type, length, (map(.name) | unique | length)])
| sort_by([-.[1], .[0]])]=])
    assert.is_true(#sql >= 3)
    assert.are.same(jq, sql)
  end)
end)
