-- The credential chain: every source, its errors, caching and refresh; the sources that speak
-- HTTP (STS, container, instance metadata) against the local test server.
local aws = require("sq.aws")
local clock = require("host.clock")
local credentials = require("sq.credentials")
local servers = require("support.servers")
local support = require("aws.support")

local ROLE = "arn:aws:iam::123456789012:role/streamquery-reader"
local NOWHERE = "/nonexistent/streamquery-home"

-- A chain over 'env' (a table) whose clock can be moved by the test.  Instance metadata is off
-- unless the test points it at the test server.
local function chain(env)
  if env.AWS_EC2_METADATA_SERVICE_ENDPOINT == nil then
    env.AWS_EC2_METADATA_DISABLED = "true"
  end
  local clock_state = { now = clock.now() }
  local provider = credentials.chain{ env = env, now = function() return clock_state.now end }
  return provider, clock_state
end

-- A shell script printing 'json' and counting its runs in a file; returns the command and a
-- function giving the count.
local function process_script(json, status, stderr)
  local counter = support.write_temp("")
  local script = support.write_temp(("#!/bin/sh\necho run >> '%s'\n%s\ncat <<'EOF'\n%s\nEOF\n"
    .. "exit %d\n"):format(counter, stderr and ("echo '" .. stderr .. "' >&2") or "", json,
    status or 0), "755")
  return script, function()
    local file = assert(io.open(counter))
    local count = select(2, file:read("a"):gsub("run", ""))
    file:close()
    return count
  end
end

local function process_json(key, secret, expiration)
  return ('{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"%s}'):format(key, secret,
    expiration and (', "SessionToken": "T", "Expiration": "' .. expiration .. '"') or "")
end

describe("sq.credentials", function()
  after_each(function()
    support.cleanup()
  end)

  describe("from the environment", function()
    it("takes the keys and the session token", function()
      local found = assert(chain({ AWS_ACCESS_KEY_ID = "AKID1", AWS_SECRET_ACCESS_KEY = "S1",
        AWS_SESSION_TOKEN = "T1" }):get())
      assert.are.same({ access_key = "AKID1", secret_key = "S1", session_token = "T1",
        source = "environment" }, found)
    end)

    it("refuses half a pair of keys", function()
      assert.are.same({ nil, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY"
        .. " is not", false }, { chain({ AWS_ACCESS_KEY_ID = "AKID1" }):get() })
    end)

    it("prints as its source only", function()
      local found = chain({ AWS_ACCESS_KEY_ID = "AKID1", AWS_SECRET_ACCESS_KEY = "S1" }):get()
      assert.are.equal("credentials from environment", tostring(found))
    end)
  end)

  describe("from the shared files", function()
    it("reads the keys of AWS_PROFILE from the credentials file", function()
      local keys = support.write_temp("[default]\naws_access_key_id = AKID0\n"
        .. "aws_secret_access_key = S0\n[ci]\naws_access_key_id = AKID2\n"
        .. "aws_secret_access_key = S2\naws_session_token = T2\n")
      local found = assert(chain({ HOME = NOWHERE, AWS_EC2_METADATA_DISABLED = "true",
        AWS_PROFILE = "ci", AWS_SHARED_CREDENTIALS_FILE = keys }):get())
      assert.are.same({ access_key = "AKID2", secret_key = "S2", session_token = "T2",
        source = "profile ci" }, found)
    end)

    it("reads [default] of the config file and the profile's region", function()
      local config = support.write_temp("[default]\nregion = eu-west-3\n"
        .. "aws_access_key_id = AKID3\naws_secret_access_key = S3\n")
      local env = { HOME = NOWHERE, AWS_CONFIG_FILE = config }
      assert.are.equal("AKID3", chain(env):get().access_key)
      assert.are.equal("eu-west-3", credentials.profile_region(env))
      local client <close> = aws.new{ env = env }
      assert.are.equal("eu-west-3", client.region)
    end)

    it("finds the files under HOME/.aws by default", function()
      local home = os.tmpname()
      os.remove(home)
      assert(os.execute("mkdir -p " .. home .. "/.aws"))
      local file = assert(io.open(home .. "/.aws/credentials", "w"))
      file:write("[default]\naws_access_key_id = AKID4\naws_secret_access_key = S4\n")
      file:close()
      local found = chain({ HOME = home }):get()
      os.execute("rm -rf " .. home)
      assert.are.equal("profile default", found.source)
      assert.are.equal("AKID4", found.access_key)
    end)

    it("says so when AWS_PROFILE names a profile that does not exist", function()
      local keys = support.write_temp("[default]\naws_access_key_id = A\n"
        .. "aws_secret_access_key = S\n")
      assert.are.same({ nil, ('profile "prod" not found in %s or %s/.aws/config'):format(keys,
        NOWHERE), false }, { chain({ HOME = NOWHERE, AWS_PROFILE = "prod",
        AWS_SHARED_CREDENTIALS_FILE = keys }):get() })
    end)

    it("gives an SSO profile a clear error that suggests credential_process", function()
      local config = support.write_temp("[profile sso]\nsso_session = corp\n"
        .. "sso_account_id = 123456789012\nsso_role_name = Reader\n")
      local _, err = chain({ HOME = NOWHERE, AWS_PROFILE = "sso", AWS_CONFIG_FILE = config }):get()
      assert.are.equal('profile "sso" uses AWS IAM Identity Center (SSO), which this host does'
        .. " not support: give the profile a credential_process instead, for example"
        .. " credential_process = aws configure export-credentials --profile sso --format process"
        .. " (with the SSO settings moved to another profile)", err)
    end)

    it("refuses source_profile loops and role_arn without a source", function()
      local config = support.write_temp(("[profile a]\nrole_arn = %s\nsource_profile = b\n"
        .. "[profile b]\nrole_arn = %s\nsource_profile = a\n[profile c]\nrole_arn = %s\n")
        :format(ROLE, ROLE, ROLE))
      local env = { HOME = NOWHERE, AWS_PROFILE = "a", AWS_CONFIG_FILE = config }
      assert.are.same({ nil, 'source_profile "b" of profile "a": profiles "b" and "a" name each'
        .. " other as source_profile", false }, { chain(env):get() })
      env.AWS_PROFILE = "c"
      assert.are.same({ nil, 'profile "c" has role_arn but no source_profile, credential_source'
        .. " or web_identity_token_file", false }, { chain(env):get() })
    end)

    it("names the line of a malformed file without quoting the secret on it", function()
      local keys = support.write_temp("[default]\naws_access_key_id = AKID5\n"
        .. "aws_secret_access_key: VERYSECRETVALUE\n")
      local found, err = chain({ HOME = NOWHERE, AWS_SHARED_CREDENTIALS_FILE = keys }):get()
      assert.is_nil(found)
      assert.are.equal(keys .. ":3: expected [section] or key = value", err)
    end)

    it("moves on to the next source when the default profile holds no keys", function()
      local config = support.write_temp("[default]\nregion = eu-west-1\n")
      local _, err = chain({ HOME = NOWHERE, AWS_CONFIG_FILE = config,
        AWS_EC2_METADATA_DISABLED = "true" }):get()
      assert.are.equal("no AWS credentials found; looked in: environment (AWS_ACCESS_KEY_ID,"
        .. " AWS_SECRET_ACCESS_KEY): not set; web identity (AWS_WEB_IDENTITY_TOKEN_FILE,"
        .. ' AWS_ROLE_ARN): not set; shared files: profile "default" in'
        .. (" %s/.aws/credentials or %s has no credentials;"):format(NOWHERE, config)
        .. " container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, _FULL_URI): not set;"
        .. " EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED", err)
    end)
  end)

  describe("from a credential_process", function()
    it("reads the JSON it prints", function()
      local script = process_script(process_json("AKID6", "S6", "2030-01-02T03:04:05Z"))
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script .. "\n")
      local found = assert(chain({ HOME = NOWHERE, AWS_PROFILE = "tool",
        AWS_CONFIG_FILE = config }):get())
      assert.are.same({ access_key = "AKID6", secret_key = "S6", session_token = "T",
        expiration = 1893553445, source = 'credential_process (profile tool)' }, found)
    end)

    it("reports a failure with its exit status and stderr, secrets blanked", function()
      local script = process_script("", 3,
        "session expired for AKIAIOSFODNN7EXAMPLE9 wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script
        .. " --secret-arg\n")
      local _, err = chain({ HOME = NOWHERE, AWS_PROFILE = "tool", AWS_CONFIG_FILE = config }):get()
      assert.are.equal('credential_process of profile "tool" failed (exit status 3):'
        .. " session expired for [redacted] [redacted]", err)
    end)

    it("refuses output that is not JSON with Version 1, without repeating it", function()
      local script = process_script('{"AccessKeyId": "AKID7", "SecretAccessKey": "S7SECRET"}')
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script .. "\n")
      local _, err = chain({ HOME = NOWHERE, AWS_PROFILE = "tool", AWS_CONFIG_FILE = config }):get()
      assert.are.equal('credential_process of profile "tool" must print a JSON object with'
        .. ' "Version": 1', err)
    end)

    it("caches credentials and runs again 5 minutes before they expire", function()
      local script, runs = process_script(process_json("AKID8", "S8", "2030-01-02T03:04:05Z"))
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script .. "\n")
      local provider, state = chain({ HOME = NOWHERE, AWS_PROFILE = "tool",
        AWS_CONFIG_FILE = config })
      local expiration = 1893553445
      state.now = expiration - 3600
      provider:get()
      provider:get()
      assert.are.equal(1, runs())
      state.now = expiration - 301
      provider:get()
      assert.are.equal(1, runs())
      state.now = expiration - 300
      assert.are.equal("AKID8", provider:get().access_key)
      assert.are.equal(2, runs())
    end)

    it("keeps valid credentials when a refresh fails, and not after they expire", function()
      local script = support.write_temp("", "755")
      local good = process_json("AKID9", "S9", "2030-01-02T03:04:05Z")
      local file = assert(io.open(script, "w"))
      file:write("#!/bin/sh\ncat <<'EOF'\n" .. good .. "\nEOF\n")
      file:close()
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script .. "\n")
      local provider, state = chain({ HOME = NOWHERE, AWS_PROFILE = "tool",
        AWS_CONFIG_FILE = config })
      state.now = 1893553445 - 3600
      assert.are.equal("AKID9", provider:get().access_key)
      file = assert(io.open(script, "w"))
      file:write("#!/bin/sh\necho 'identity service down' >&2\nexit 1\n")
      file:close()
      state.now = 1893553445 - 60
      assert.are.equal("AKID9", provider:get().access_key)
      state.now = 1893553445
      assert.are.same({ nil, 'credential_process of profile "tool" failed (exit status 1):'
        .. " identity service down", false }, { provider:get() })
    end)
  end)

  describe("parse_time", function()
    it("reads the forms AWS services write", function()
      assert.are.equal(1893553445, credentials.parse_time("2030-01-02T03:04:05Z"))
      assert.are.equal(1893553445, credentials.parse_time("2030-01-02T03:04:05.123Z"))
      assert.are.equal(1893553445, credentials.parse_time("2030-01-02T04:04:05+01:00"))
      assert.are.equal(1893553445, credentials.parse_time("2030-01-01T22:04:05-0500"))
      assert.is_nil(credentials.parse_time("2030-01-02 03:04"))
      assert.is_nil(credentials.parse_time("2030-01-02T03:04:05"))
    end)
  end)

  describe("against the test server", function()
    local server
    local WEB_TOKEN = "eyJ0ZXN0IjoidG9rZW4ifQ.web-identity"

    setup(function()
      server = servers.start({ "--tls", "--web-identity-token", WEB_TOKEN,
        "--container-path", "/creds", "--container-token", "Bearer container-token" })
    end)

    teardown(function()
      server:stop()
    end)

    before_each(function()
      server:reset()
    end)

    -- Credentials are good when the server accepts a call signed with them.
    local function assert_work(provider)
      local client <close> = aws.new{ env = support.env(server), credentials = provider }
      local response, err = client:call("athena", support.TARGET, support.BODY)
      assert.is_nil(err)
      assert.are.equal("no-such-query",
        response.UnprocessedQueryExecutionIds[1].QueryExecutionId)
    end

    it("assumes a role with the keys of the source_profile (STS AssumeRole)", function()
      local keys = support.write_temp(("[base]\naws_access_key_id = %s\n"
        .. "aws_secret_access_key = %s\n"):format(support.ACCESS_KEY, support.SECRET))
      local config = support.write_temp(("[profile deploy]\nrole_arn = %s\n"
        .. "source_profile = base\nrole_session_name = streamquery-test\n"):format(ROLE))
      local provider = chain(support.env(server, { AWS_PROFILE = "deploy",
        AWS_SHARED_CREDENTIALS_FILE = keys, AWS_CONFIG_FILE = config }))
      local found = assert(provider:get())
      assert.are.equal("assume-role (profile deploy)", found.source)
      assert.are.equal("ASIA", found.access_key:sub(1, 4))
      assert.is_string(found.session_token)
      assert.is_number(found.expiration)
      local call = server:stats().sts_calls[1]
      assert.are.same({ action = "AssumeRole", role_arn = ROLE,
        role_session_name = "streamquery-test", duration_seconds = 3600,
        signed_by = support.ACCESS_KEY, issued = found.access_key }, call)
      assert_work(provider)
      local stats = server:stats()
      assert.are.equal(1, stats.signed_by[found.access_key])
      assert.are.equal(1, stats.requests_with_security_token)
    end)

    it("refreshes assumed-role credentials 5 minutes before they expire", function()
      local keys = support.write_temp(("[base]\naws_access_key_id = %s\n"
        .. "aws_secret_access_key = %s\n"):format(support.ACCESS_KEY, support.SECRET))
      local config = support.write_temp(("[profile deploy]\nrole_arn = %s\n"
        .. "source_profile = base\n"):format(ROLE))
      local provider, state = chain(support.env(server, { AWS_PROFILE = "deploy",
        AWS_SHARED_CREDENTIALS_FILE = keys, AWS_CONFIG_FILE = config }))
      local first = assert(provider:get())
      state.now = first.expiration - 301
      assert.are.equal(first.access_key, provider:get().access_key)
      state.now = first.expiration - 299
      local second = assert(provider:get())
      assert.are_not.equal(first.access_key, second.access_key)
      assert.are.equal(2, #server:stats().sts_calls)
      assert_work(provider)
    end)

    it("reports a refused AssumeRole without any secret", function()
      local wrong = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGSECRET"
      local keys = support.write_temp(("[base]\naws_access_key_id = %s\n"
        .. "aws_secret_access_key = %s\n"):format(support.ACCESS_KEY, wrong))
      local config = support.write_temp(("[profile deploy]\nrole_arn = %s\n"
        .. "source_profile = base\n"):format(ROLE))
      local found, err = chain(support.env(server, { AWS_PROFILE = "deploy",
        AWS_SHARED_CREDENTIALS_FILE = keys, AWS_CONFIG_FILE = config })):get()
      assert.is_nil(found)
      local prefix = "STS AssumeRole for " .. ROLE .. " failed: SignatureDoesNotMatch: "
      assert.are.equal(prefix, err:sub(1, #prefix))
      assert.is_nil(err:find(wrong, 1, true))
    end)

    it("uses credential_process keys that the server accepts", function()
      local script = process_script(process_json(support.ACCESS_KEY, support.SECRET))
      local config = support.write_temp("[profile tool]\ncredential_process = " .. script .. "\n")
      local provider = chain(support.env(server, { AWS_PROFILE = "tool",
        AWS_CONFIG_FILE = config }))
      assert.are.equal('credential_process (profile tool)', provider:get().source)
      assert_work(provider)
    end)

    it("exchanges a web identity token named by the environment", function()
      local token_file = support.write_temp(WEB_TOKEN .. "\n")
      local provider = chain(support.env(server, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file,
        AWS_ROLE_ARN = ROLE, AWS_ROLE_SESSION_NAME = "pod-1" }))
      local found = assert(provider:get())
      assert.are.equal("web-identity", found.source)
      assert.are.same({ action = "AssumeRoleWithWebIdentity", role_arn = ROLE,
        role_session_name = "pod-1", duration_seconds = 3600, issued = found.access_key },
        server:stats().sts_calls[1])
      assert_work(provider)
    end)

    it("exchanges a web identity token named by a profile", function()
      local token_file = support.write_temp(WEB_TOKEN)
      local config = support.write_temp(("[profile eks]\nrole_arn = %s\n"
        .. "web_identity_token_file = %s\n"):format(ROLE, token_file))
      local provider = chain(support.env(server, { AWS_PROFILE = "eks",
        AWS_CONFIG_FILE = config }))
      assert.are.equal("assume-role (profile eks)", provider:get().source)
      assert_work(provider)
    end)

    it("reports a web identity token the server refuses", function()
      local token_file = support.write_temp("not-the-token")
      local found, err = chain(support.env(server, { AWS_WEB_IDENTITY_TOKEN_FILE = token_file,
        AWS_ROLE_ARN = ROLE })):get()
      assert.is_nil(found)
      local prefix = "STS AssumeRoleWithWebIdentity for " .. ROLE .. " failed:"
        .. " InvalidIdentityToken: The web identity token was not accepted (HTTP 400, request id "
      assert.are.equal(prefix, err:sub(1, #prefix))
      assert.is_nil(err:find("not-the-token", 1, true))
    end)

    it("fetches container credentials with the authorization token", function()
      local provider = chain(support.env(server, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer container-token" }))
      local found = assert(provider:get())
      assert.are.equal("container", found.source)
      assert.are.equal(1, server:stats().container_credentials_served)
      assert_work(provider)
    end)

    it("reads the container token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", function()
      local token_file = support.write_temp("Bearer container-token\n")
      local provider = chain(support.env(server, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN = "ignored",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = token_file }))
      assert.are.equal("container", provider:get().source)
    end)

    it("reports a refused container token", function()
      local found, err = chain(support.env(server, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI = server.url .. "/creds",
        AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer wrong" })):get()
      assert.is_nil(found)
      assert.are.equal("container credentials endpoint " .. server.url
        .. " answered HTTP 401: Authorization is missing or wrong", err)
    end)

    it("refuses a plain-http container URL that is not loopback", function()
      local _, err = chain(support.env(server, {
        AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://192.0.2.1/creds" })):get()
      assert.are.equal("AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// URL or an http://"
        .. " URL of a loopback or container-credentials address", err)
    end)

    it("fetches instance metadata credentials with an IMDSv2 token", function()
      local provider = chain(support.env(server, { AWS_EC2_METADATA_DISABLED = false,
        AWS_EC2_METADATA_SERVICE_ENDPOINT = server.url }))
      local found = assert(provider:get())
      assert.are.equal("instance-metadata", found.source)
      local stats = server:stats()
      assert.are.equal(1, stats.metadata_credentials_served)
      assert.are.same({ ["IMDS"] = 3 }, stats.by_target)
      assert_work(provider)
    end)

    it("lists an instance metadata endpoint that does not answer", function()
      local _, err = chain(support.env(server, { AWS_EC2_METADATA_DISABLED = false,
        AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:1" })):get()
      local suffix = "; EC2 instance metadata at http://127.0.0.1:1: no answer (refused)"
      assert.are.equal(suffix, err:sub(-#suffix))
    end)
  end)
end)
