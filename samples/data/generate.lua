-- Writes the shipped sample: CloudTrail files for account 123456789012 on
-- 2020-02-13 from 19:00 to 22:59 UTC, in dt=YYYY-MM-DD-HH folders, as
-- CloudTrail delivers them ({"Records": [...]}, some gzip-compressed).
--
--   lua5.4 samples/data/generate.lua samples/data
--
-- The output is the same on every run (a fixed pseudo-random sequence, gzip -n).
-- The story, so that every sample detection finds something at 22:06:20:
--   - bob's console password is guessed from 198.51.100.23 (7 failures at 21:1x);
--   - a CI role with stolen keys probes permissions from 192.0.2.44 (14 denials at 21:3x);
--   - someone signs in as root at 21:4x and looks around;
--   - alice does routine IAM work and creates a key for the deploy user;
--   - mallory attaches AdministratorAccess to herself, makes a key and stops the trail;
--   - the reporting role reads the same secrets again and again;
--   - an analyst runs Athena queries; the rest is ordinary background traffic.
local out_dir = arg[1] or "samples/data"
local ACCOUNT = "123456789012"
local REGION = "us-east-1"

-- A fixed linear congruential sequence: the same sample on every run.
local seed = 20200213
local function random(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return (seed >> 16) % n + 1
end
local function pick(list)
  return list[random(#list)]
end
local function hex(n)
  local digits = {}
  for i = 1, n do
    digits[i] = string.format("%x", random(16) - 1)
  end
  return table.concat(digits)
end
local function uuid()
  return string.format("%s-%s-4%s-a%s-%s", hex(8), hex(4), hex(3), hex(3), hex(12))
end

-- Objects keep their key order: O("k1", v1, "k2", v2, ...). NULL is JSON null.
local NULL = setmetatable({}, { __name = "null" })
local function O(...)
  return { ordered = true, n = select("#", ...), ... }
end

local function encode(v)
  local t = type(v)
  if v == NULL then
    return "null"
  elseif t == "boolean" or t == "number" then
    return tostring(v)
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n" })[c] or string.format("\\u%04x",
        c:byte())
    end) .. '"'
  elseif v.ordered then
    local parts = {}
    for i = 1, v.n, 2 do
      if v[i + 1] ~= nil then
        parts[#parts + 1] = encode(v[i]) .. ":" .. encode(v[i + 1])
      end
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local parts = {}
  for i, item in ipairs(v) do
    parts[i] = encode(item)
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

---------------------------------------------------------------------------
-- Identities
---------------------------------------------------------------------------

local function user(name, id, key)
  return O("type", "IAMUser", "principalId", id, "arn", "arn:aws:iam::" .. ACCOUNT .. ":user/"
    .. name, "accountId", ACCOUNT, "accessKeyId", key, "userName", name)
end

local function role(name, id, session, key, mfa)
  return O("type", "AssumedRole", "principalId", id .. ":" .. session,
    "arn", "arn:aws:sts::" .. ACCOUNT .. ":assumed-role/" .. name .. "/" .. session,
    "accountId", ACCOUNT, "accessKeyId", key,
    "sessionContext", O(
      "sessionIssuer", O("type", "Role", "principalId", id, "arn", "arn:aws:iam::" .. ACCOUNT
        .. ":role/" .. name, "accountId", ACCOUNT, "userName", name),
      "webIdFederationData", O(),
      "attributes", O("mfaAuthenticated", mfa and "true" or "false", "creationDate",
        "2020-02-13T18:02:11Z")))
end

local function root(key, invoked_by)
  return O("type", "Root", "principalId", ACCOUNT, "arn", "arn:aws:iam::" .. ACCOUNT .. ":root",
    "accountId", ACCOUNT, "accessKeyId", key, "invokedBy", invoked_by)
end

local function service(name)
  return O("type", "AWSService", "invokedBy", name)
end

local ALICE = user("alice", "AIDAJQABLZS4A3QDU576Q", "AKIAIOSFODNN7ALICE01")
local BOB_FAILED = O("type", "IAMUser", "principalId", "AIDACKCEVSQ6C2EXAMPLE", "accountId",
  ACCOUNT, "accessKeyId", "", "userName", "bob")
local BOB = user("bob", "AIDACKCEVSQ6C2EXAMPLE", "ASIAY34FZKBOKBOB0001")
local CAROL_FAILED = O("type", "IAMUser", "principalId", "AIDAI23HXD2O5EXAMPLE", "accountId",
  ACCOUNT, "accessKeyId", "", "userName", "carol")
local MALLORY = user("mallory", "AIDAZ4Q7EXAMPLEMALLO", "AKIAZ4Q7EXAMPLEMAL01")
local CI = role("ci-deploy", "AROAXXCI7DEPLOYEXAMPL", "gh-actions-4411", "ASIAXXCI7DEPLOY00001")
local ANALYST = role("security-analyst", "AROAANALYST7EXAMPLE1", "dave",
  "ASIAANALYST7DAVE0001", true)
local REPORTS = role("reporting-lambda", "AROAREPORTS7EXAMPLE1", "reporting-lambda",
  "ASIAREPORTS7LAMBDA01")
local WEB = role("web-app", "AROAWEBAPP7EXAMPLE01", "i-0a1b2c3d4e5f60718", "ASIAWEBAPP7INSTANCE1")

local ROOT_ADDRESS = "203.0.113.77"
local OFFICE = "203.0.113.10"

---------------------------------------------------------------------------
-- Events
---------------------------------------------------------------------------

local events = {}

local function at(hour, minute, second)
  return string.format("2020-02-13T%02d:%02d:%02dZ", hour, minute, second)
end

-- One CloudTrail record. `e` names the parts that vary.
local function event(e)
  local record = O(
    "eventVersion", "1.05",
    "userIdentity", e.identity,
    "eventTime", e.time,
    "eventSource", e.source,
    "eventName", e.name,
    "awsRegion", e.region or REGION,
    "sourceIPAddress", e.ip,
    "userAgent", e.agent or "aws-cli/1.16.310 Python/3.7.6 Linux/4.14.154 botocore/1.13.46",
    "errorCode", e.error_code,
    "errorMessage", e.error_message,
    "requestParameters", e.request == nil and NULL or e.request,
    "responseElements", e.response == nil and NULL or e.response,
    "additionalEventData", e.additional,
    "requestID", uuid(),
    "eventID", uuid(),
    "resources", e.resources,
    "eventType", e.type or "AwsApiCall",
    "readOnly", e.read_only,
    "recipientAccountId", ACCOUNT)
  events[#events + 1] = { time = e.time, record = record }
end

local CONSOLE = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, "
  .. "like Gecko) Chrome/80.0.3987.100 Safari/537.36"

local function console_login(identity, time, ip, ok, mfa)
  event {
    identity = identity, time = time, source = "signin.amazonaws.com", name = "ConsoleLogin",
    ip = ip, agent = CONSOLE, type = "AwsConsoleSignIn",
    error_message = not ok and "Failed authentication" or nil,
    response = O("ConsoleLogin", ok and "Success" or "Failure"),
    additional = O("LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23",
      "MobileVersion", "No", "MFAUsed", mfa and "Yes" or "No"),
  }
end

-- bob: password guessing, then carol mistyping twice, then bob's real login at 22:01
for i, minute in ipairs({ 11, 11, 12, 13, 13, 14, 16 }) do
  console_login(BOB_FAILED, at(21, minute, 5 + i * 7), "198.51.100.23", false)
end
console_login(CAROL_FAILED, at(21, 24, 40), OFFICE, false)
console_login(CAROL_FAILED, at(21, 25, 2), OFFICE, false)
console_login(ALICE, at(19, 2, 14), OFFICE, true, true)
console_login(BOB, at(22, 1, 30), "198.51.100.87", true, true)
console_login(BOB_FAILED, at(20, 40, 12), "198.51.100.87", false)

-- the CI role's stolen keys: permission probing from an unknown address
local PROBES = {
  { "iam.amazonaws.com", "ListUsers", "AccessDenied" },
  { "iam.amazonaws.com", "ListRoles", "AccessDenied" },
  { "iam.amazonaws.com", "GetAccountAuthorizationDetails", "AccessDenied" },
  { "ec2.amazonaws.com", "DescribeInstances", "Client.UnauthorizedOperation" },
  { "ec2.amazonaws.com", "DescribeSnapshots", "Client.UnauthorizedOperation" },
  { "s3.amazonaws.com", "ListBuckets", "AccessDenied" },
  { "secretsmanager.amazonaws.com", "ListSecrets", "AccessDenied" },
  { "kms.amazonaws.com", "ListKeys", "AccessDenied" },
  { "lambda.amazonaws.com", "ListFunctions20150331", "AccessDenied" },
  { "rds.amazonaws.com", "DescribeDBInstances", "AccessDenied" },
  { "dynamodb.amazonaws.com", "ListTables", "AccessDenied" },
  { "organizations.amazonaws.com", "DescribeOrganization", "AccessDenied" },
  { "iam.amazonaws.com", "ListAccessKeys", "AccessDenied" },
  { "cloudtrail.amazonaws.com", "DescribeTrails", "AccessDenied" },
}
for i, probe in ipairs(PROBES) do
  local source, name, code = probe[1], probe[2], probe[3]
  event {
    identity = CI, time = at(21, 31 + i // 3, (i * 13) % 60), source = source, name = name,
    ip = "192.0.2.44", agent = "Boto3/1.11.9 Python/3.8.1 Linux/5.4.0 Botocore/1.14.9",
    error_code = code,
    error_message = code == "AccessDenied" and string.format("User: %s is not authorized to "
      .. "perform: %s:%s", CI[6], source:match("^[^.]+"), name) or "You are not authorized to "
      .. "perform this operation.",
    read_only = true,
  }
end
-- the same role, from its usual runner, now and then denied once (below the threshold)
event { identity = CI, time = at(20, 5, 9), source = "ecr.amazonaws.com",
        name = "GetAuthorizationToken", ip = "34.224.11.8", read_only = true,
        agent = "aws-sdk-go/1.28.9 (go1.13.6; linux; amd64)" }
event { identity = CI, time = at(20, 5, 44), source = "s3.amazonaws.com", name = "PutObject",
        ip = "34.224.11.8", error_code = "AccessDenied", error_message = "Access Denied",
        request = O("bucketName", "prod-artifacts-123456789012", "key", "builds/4411.tar.gz"),
        agent = "aws-sdk-go/1.28.9 (go1.13.6; linux; amd64)" }

-- root: a sign-in and a look around; and an event AWS itself made on root's behalf
console_login(root(""), at(21, 42, 3), ROOT_ADDRESS, true, false)
local ROOT_SESSION = root("ASIAROOTSESSION00001")
for i, call in ipairs({
  { "iam.amazonaws.com", "GetAccountSummary" },
  { "iam.amazonaws.com", "ListUsers" },
  { "iam.amazonaws.com", "ListUsers" },
  { "iam.amazonaws.com", "ListAccessKeys" },
  { "billing.amazonaws.com", "GetBillingData" },
  { "iam.amazonaws.com", "GetAccountPasswordPolicy" },
}) do
  event { identity = ROOT_SESSION, time = at(21, 43 + i, i * 9), source = call[1], name = call[2],
          ip = ROOT_ADDRESS, agent = "console.amazonaws.com", read_only = true }
end
local ROOT_BY_SERVICE = root("ASIAROOTSERVICE00001", "support.amazonaws.com")
event { identity = ROOT_BY_SERVICE, time = at(21, 50, 0), source = "support.amazonaws.com",
        name = "DescribeTrustedAdvisorChecks", ip = "support.amazonaws.com",
        agent = "support.amazonaws.com", read_only = true }

-- alice's IAM housekeeping (19:1x to 19:5x)
local function iam(identity, time, ip, name, request, response, error_code)
  event { identity = identity, time = time, source = "iam.amazonaws.com", name = name, ip = ip,
          request = request, response = response, error_code = error_code,
          error_message = error_code and "Access denied" or nil,
          agent = "console.amazonaws.com" }
end
iam(ALICE, at(19, 14, 2), OFFICE, "CreateUser", O("userName", "deploy"),
  O("user", O("path", "/", "userName", "deploy", "userId", "AIDADEPLOY7EXAMPLE01", "arn",
    "arn:aws:iam::" .. ACCOUNT .. ":user/deploy", "createDate", "Feb 13, 2020 7:14:02 PM")))
iam(ALICE, at(19, 15, 31), OFFICE, "AttachUserPolicy", O("userName", "deploy", "policyArn",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"))
iam(ALICE, at(19, 21, 50), OFFICE, "PutRolePolicy", O("roleName", "web-app", "policyName",
  "read-config", "policyDocument", '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
  .. '"Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/web/*"'
  .. "}]}"))
iam(ALICE, at(19, 52, 8), OFFICE, "CreateAccessKey", O("userName", "deploy"),
  O("accessKey", O("accessKeyId", "AKIADEPLOY7EXAMPLE01", "status", "Active", "userName",
    "deploy", "createDate", "Feb 13, 2020 7:52:08 PM")))
iam(ALICE, at(20, 31, 15), OFFICE, "AddUserToGroup", O("groupName", "developers", "userName",
  "deploy"))

-- mallory: privilege escalation, persistence, and blinding the trail
iam(MALLORY, at(20, 38, 40), "198.51.100.200", "AttachUserPolicy", O("userName", "mallory",
  "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"))
event { identity = MALLORY, time = at(20, 44, 12), source = "cloudtrail.amazonaws.com",
        name = "StopLogging", ip = "198.51.100.200",
        request = O("name", "arn:aws:cloudtrail:us-east-1:" .. ACCOUNT .. ":trail/management") }
event { identity = MALLORY, time = at(20, 44, 51), source = "cloudtrail.amazonaws.com",
        name = "DeleteTrail", ip = "198.51.100.200", error_code = "AccessDenied",
        error_message = "User: arn:aws:iam::123456789012:user/mallory is not authorized to "
          .. "perform: cloudtrail:DeleteTrail",
        request = O("name", "management") }
iam(MALLORY, at(21, 3, 17), "198.51.100.200", "CreateAccessKey", O("userName", "mallory"),
  O("accessKey", O("accessKeyId", "AKIAZ4Q7EXAMPLEMAL02", "status", "Active", "userName",
    "mallory", "createDate", "Feb 13, 2020 9:03:17 PM")))
event { identity = ALICE, time = at(21, 28, 5), source = "cloudtrail.amazonaws.com",
        name = "StartLogging", ip = OFFICE,
        request = O("name", "arn:aws:cloudtrail:us-east-1:" .. ACCOUNT .. ":trail/management") }
event { identity = ALICE, time = at(21, 29, 40), source = "cloudtrail.amazonaws.com",
        name = "UpdateTrail", ip = OFFICE,
        request = O("name", "management", "isMultiRegionTrail", true) }
iam(ALICE, at(21, 33, 12), OFFICE, "DetachUserPolicy", O("userName", "mallory", "policyArn",
  "arn:aws:iam::aws:policy/AdministratorAccess"))
iam(ALICE, at(21, 34, 0), OFFICE, "DeleteAccessKey", O("userName", "mallory", "accessKeyId",
  "AKIAZ4Q7EXAMPLEMAL02"))

-- the reporting role reads the same secrets every few minutes
local SECRETS = { "prod/reporting/db", "prod/reporting/api-token" }
for i = 0, 15 do
  local secret = SECRETS[i % 2 + 1]
  event { identity = REPORTS, time = at(19 + i // 6, (i % 6) * 10 + 3, 11 + i), name =
          "GetSecretValue", source = "secretsmanager.amazonaws.com", ip = "34.201.77.12",
          agent = "aws-sdk-java/1.11.722 Linux/4.14.165 OpenJDK_64-Bit_Server_VM/25.242",
          request = O("secretId", "arn:aws:secretsmanager:us-east-1:" .. ACCOUNT .. ":secret:"
            .. secret), read_only = true,
          resources = nil }
end

-- the analyst's Athena queries
local QUERIES = {
  "SELECT eventname, count(*) FROM cloudtrail WHERE dt = '2020-02-13-20' GROUP BY 1",
  "SELECT * FROM cloudtrail WHERE useridentity.username = 'mallory' LIMIT 100",
  "SELECT sourceipaddress, count(*) FROM cloudtrail WHERE errorcode = 'AccessDenied' GROUP BY 1",
}
for i, query in ipairs(QUERIES) do
  local hour = i == 1 and 20 or 21
  event { identity = ANALYST, time = at(hour, 50 - i * 3, 30 + i), source = "athena.amazonaws.com",
          name = "StartQueryExecution", ip = OFFICE, agent = "console.amazonaws.com",
          request = O("queryString", query, "queryExecutionContext", O("database", "security"),
            "resultConfiguration", O("outputLocation", "s3://aws-athena-query-results-"
              .. ACCOUNT .. "-us-east-1/")),
          response = O("queryExecutionId", uuid()) }
end
event { identity = ANALYST, time = at(21, 48, 2), source = "athena.amazonaws.com",
        name = "StartQueryExecution", ip = OFFICE, agent = "console.amazonaws.com",
        error_code = "InvalidRequestException", error_message = "line 1:8: mismatched input 'FORM'",
        request = O("queryString", "SELECT * FORM cloudtrail", "queryExecutionContext",
          O("database", "security")) }

-- background: the web fleet, AWS services, developers
local BACKGROUND = {
  { WEB, "ssm.amazonaws.com", "GetParameter", "10.0.12.31", true },
  { WEB, "kms.amazonaws.com", "Decrypt", "10.0.12.31", true },
  { WEB, "s3.amazonaws.com", "GetBucketLocation", "10.0.12.31", true },
  { WEB, "logs.amazonaws.com", "CreateLogStream", "10.0.12.31", false },
  { WEB, "sts.amazonaws.com", "GetCallerIdentity", "10.0.12.31", true },
  { ALICE, "ec2.amazonaws.com", "DescribeInstances", OFFICE, true },
  { ALICE, "ec2.amazonaws.com", "DescribeSecurityGroups", OFFICE, true },
  { ALICE, "cloudwatch.amazonaws.com", "GetMetricData", OFFICE, true },
  { BOB, "ecs.amazonaws.com", "DescribeServices", "198.51.100.87", true },
  { BOB, "logs.amazonaws.com", "FilterLogEvents", "198.51.100.87", true },
  { ANALYST, "athena.amazonaws.com", "GetQueryExecution", OFFICE, true },
  { ANALYST, "athena.amazonaws.com", "GetQueryResults", OFFICE, true },
}
for _ = 1, 190 do
  local hour, minute, second = 18 + random(5), random(60) - 1, random(60) - 1
  if hour == 23 then
    hour = 22
  end
  local b = pick(BACKGROUND)
  local request
  if b[3] == "GetParameter" then
    request = O("name", "/web/" .. pick({ "db-host", "feature-flags", "cache-endpoint" }),
      "withDecryption", true)
  elseif b[3] == "Decrypt" then
    request = O("encryptionContext", O("PARAMETER_ARN", "arn:aws:ssm:us-east-1:" .. ACCOUNT
      .. ":parameter/web/db-host"), "encryptionAlgorithm", "SYMMETRIC_DEFAULT")
  elseif b[3] == "DescribeInstances" then
    request = O("instancesSet", O(), "filterSet", O("items", { O("name", "tag:env",
      "valueSet", O("items", { O("value", "prod") })) }))
  end
  event { identity = b[1], time = at(hour, minute, second), source = b[2], name = b[3],
          ip = b[4], read_only = b[5], request = request }
end
for _ = 1, 24 do
  local hour, minute = 18 + random(4), random(60) - 1
  local s = pick({ "lambda.amazonaws.com", "ec2.amazonaws.com", "autoscaling.amazonaws.com" })
  event { identity = service(s), time = at(hour, minute, random(60) - 1),
          source = "sts.amazonaws.com", name = "AssumeRole", ip = s, agent = s,
          request = O("roleArn", "arn:aws:iam::" .. ACCOUNT .. ":role/web-app",
            "roleSessionName", "i-0a1b2c3d4e5f60718"),
          resources = { O("ARN", "arn:aws:iam::" .. ACCOUNT .. ":role/web-app", "accountId",
            ACCOUNT, "type", "AWS::IAM::Role") },
          read_only = true }
end
for hour = 19, 22 do
  event { identity = O("accountId", ACCOUNT, "invokedBy", "AWS Internal"),
          time = at(hour, 0, 7), source = "kms.amazonaws.com", name = "RotateKey",
          ip = "AWS Internal", agent = "AWS Internal", type = "AwsServiceEvent",
          resources = { O("ARN", "arn:aws:kms:us-east-1:" .. ACCOUNT
            .. ":key/6f2d1a8e-9c7b-4e3a-8f1d-2b4c6d8e0a1f", "accountId", ACCOUNT,
            "type", "AWS::KMS::Key") } }
end

---------------------------------------------------------------------------
-- Files: one folder per hour, two or three files per folder
---------------------------------------------------------------------------

table.sort(events, function(a, b)
  return a.time < b.time
end)
local by_file = {}
for _, e in ipairs(events) do
  local hour, minute = e.time:match("T(%d%d):(%d%d)")
  local slot = tonumber(minute) // 20 * 20
  local key = string.format("%s|%02d", hour, slot)
  by_file[key] = by_file[key] or { hour = hour, slot = slot, records = {} }
  table.insert(by_file[key].records, e.record)
end
local keys = {}
for key in pairs(by_file) do
  keys[#keys + 1] = key
end
table.sort(keys)
local total = 0
for _, key in ipairs(keys) do
  local file = by_file[key]
  local dir = string.format("%s/cloudtrail/dt=2020-02-13-%s", out_dir, file.hour)
  os.execute("mkdir -p '" .. dir .. "'")
  local name = string.format("%s/%s_CloudTrail_%s_20200213T%s%02dZ_%s.json", dir, ACCOUNT, REGION,
    file.hour, file.slot + 5, hex(16))
  local f = assert(io.open(name, "w"))
  f:write(encode(O("Records", file.records)), "\n")
  f:close()
  if file.hour == "19" or file.hour == "21" then
    assert(os.execute("gzip -n -f '" .. name .. "'"))
  end
  total = total + #file.records
end
io.stderr:write(string.format("wrote %d records in %d files under %s/cloudtrail\n", total, #keys,
  out_dir))
