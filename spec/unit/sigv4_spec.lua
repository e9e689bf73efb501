-- The C SigV4 signer (host.sigv4) from Lua, against the official AWS test vectors in
-- ../shared/testdata/sigv4 (read in place, never copied) and a few cases of the project's own.
local cjson = require("cjson")
local sigv4 = require("host.sigv4")

local EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local VECTOR_TIME = 1440938160 -- 2015-08-30T12:36:00Z

-- The classic .sreq whose Authorization line carries get-vanilla's signature upstream.
local BAD_CLASSIC_SREQ = "get-vanilla-with-session-token"

local function vectors_dir()
  local root = os.getenv("STREAMQUERY_ROOT") or "."
  local dir = root .. "/../shared/testdata/sigv4"
  if io.open(dir .. "/README.md") then
    return dir
  end
  return "/work/shared/testdata/sigv4"
end

local VECTORS = vectors_dir()

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("a")
  file:close()
  return text
end

local function lines_of(command)
  local pipe = assert(io.popen(command))
  local list = {}
  for line in pipe:lines() do
    list[#list + 1] = line
  end
  pipe:close()
  return list
end

-- HTTP/1.1 request text: the target runs to the last " HTTP/", so that paths may hold spaces;
-- a line starting with a blank continues the previous header, joined by one space; the body
-- is whatever follows the first empty line.
local function parse_request(text)
  local first = text:find("\n", 1, true) or #text + 1
  local method, target = text:sub(1, first - 1):match("^(%S+) (.*) HTTP/%d%.%d$")
  local path, query = target:match("^([^?]*)%??(.*)$")
  local request = { method = method, path = path, query = query, headers = {}, body = "" }
  local at = first + 1
  while at <= #text do
    local eol = text:find("\n", at, true) or #text + 1
    local line = text:sub(at, eol - 1)
    if line == "" then
      request.body = text:sub(eol + 1)
      break
    end
    if line:match("^[ \t]") then
      local last = request.headers[#request.headers]
      last[2] = last[2] .. " " .. line:match("^[ \t]+(.*)$")
    else
      local name, value = line:match("^([^:]+):(.*)$")
      request.headers[#request.headers + 1] = { name, value }
    end
    at = eol + 1
  end
  return request
end

-- Headers as a sorted list of "lower-case-name:trimmed value", to compare as a set.
local function header_set(...)
  local set = {}
  for _, list in ipairs({ ... }) do
    for _, pair in ipairs(list) do
      set[#set + 1] = pair[1]:lower() .. ":" .. pair[2]:match("^[ \t]*(.-)[ \t]*$")
    end
  end
  table.sort(set)
  return set
end

local function query_set(query)
  local set = {}
  for part in query:gmatch("[^&]+") do
    set[#set + 1] = part
  end
  table.sort(set)
  return set
end

local function without(set, prefix)
  local kept = {}
  for _, entry in ipairs(set) do
    if entry:sub(1, #prefix) ~= prefix then
      kept[#kept + 1] = entry
    end
  end
  return kept
end

local function sign_args(request, context, mode)
  local credentials = context.credentials
  return {
    method = request.method, path = request.path, query = request.query,
    headers = request.headers, body = request.body,
    access_key = credentials.access_key_id, secret_key = credentials.secret_access_key,
    session_token = credentials.token,
    region = context.region, service = context.service, time = VECTOR_TIME,
    mode = mode, expires = context.expiration_in_seconds,
    normalize = context.normalize, sign_body = context.sign_body,
    omit_session_token = context.omit_session_token or false,
  }
end

describe("host.sigv4 against the official v4 vectors", function()
  local cases = lines_of("ls -1 '" .. VECTORS .. "/v4'")

  it("finds all 38 cases", function()
    assert.are.equal(38, #cases)
  end)

  for _, name in ipairs(cases) do
    for _, mode in ipairs({ "header", "query" }) do
      it("signs " .. name .. " in " .. mode .. " mode", function()
        local dir = VECTORS .. "/v4/" .. name .. "/"
        local context = cjson.decode(read(dir .. "context.json"))
        assert.are.equal("2015-08-30T12:36:00Z", context.timestamp)
        local request = parse_request(read(dir .. "request.txt"))
        local expected = parse_request(read(dir .. mode .. "-signed-request.txt"))
        local r = sigv4.sign(sign_args(request, context, mode))
        assert.are.equal(read(dir .. mode .. "-canonical-request.txt"), r.canonical_request)
        assert.are.equal(read(dir .. mode .. "-string-to-sign.txt"), r.string_to_sign)
        assert.are.equal(read(dir .. mode .. "-signature.txt"), r.signature)
        assert.are.same(header_set(expected.headers), header_set(request.headers, r.headers))
        assert.are.equal(expected.body, request.body)
        if mode == "query" then
          assert.are.same({}, r.headers)
          assert.is_nil(r.authorization)
          assert.are.same(query_set(expected.query), query_set(r.query))
        else
          assert.is_nil(r.query)
          assert.are.equal(expected.query, request.query)
          assert.are.equal(r.headers[#r.headers][2], r.authorization)
        end
      end)
    end
  end
end)

describe("host.sigv4 against the classic vectors", function()
  local reqs = lines_of("find '" .. VECTORS .. "/classic' -name '*.req' | sort")
  local identity = cjson.decode(read(VECTORS .. "/v4/get-vanilla/context.json"))

  it("finds all 34 cases", function()
    assert.are.equal(34, #reqs)
  end)

  for _, req in ipairs(reqs) do
    local base = req:sub(1, -5)
    local name = base:match("([^/]+)$")
    local title = name == BAD_CLASSIC_SREQ
      and " (not the .sreq Authorization: upstream gives it get-vanilla's signature)" or ""
    it("signs " .. name .. " with the request's own X-Amz-Date" .. title, function()
      -- The identity of every case; the token and omit_session_token of the v4 case of the
      -- same name when there is one; no signed body header (the classic cases have none).
      local context = {
        credentials = { access_key_id = identity.credentials.access_key_id,
                        secret_access_key = identity.credentials.secret_access_key },
        region = identity.region, service = identity.service, normalize = true,
        sign_body = false,
      }
      local twin = io.open(VECTORS .. "/v4/" .. name .. "/context.json")
      if twin then
        local same = cjson.decode(twin:read("a"))
        twin:close()
        context.credentials.token = same.credentials.token
        context.omit_session_token = same.omit_session_token
      end
      local request = parse_request(read(req))
      local args = sign_args(request, context, "header")
      args.time = nil -- the request's X-Amz-Date is the signing time
      local r = sigv4.sign(args)
      assert.are.equal(read(base .. ".creq"), r.canonical_request)
      assert.are.equal(read(base .. ".sts"), r.string_to_sign)
      assert.are.equal(read(base .. ".authz"), r.authorization)
      local expected = parse_request(read(base .. ".sreq"))
      local ours, theirs = header_set(request.headers, r.headers), header_set(expected.headers)
      if name == BAD_CLASSIC_SREQ then
        ours, theirs = without(ours, "authorization:"), without(theirs, "authorization:")
      end
      assert.are.same(theirs, ours)
    end)
  end
end)

describe("host.sigv4", function()
  local function athena_request(extra)
    local args = {
      method = "POST", path = "/",
      headers = { { "Host", "athena.us-east-1.amazonaws.com" },
                  { "Content-Type", "application/x-amz-json-1.1" },
                  { "X-Amz-Target", "AmazonAthena.StartQueryExecution" } },
      body = '{"QueryString":"SELECT 1","WorkGroup":"primary"}',
      access_key = "AKIDEXAMPLE", secret_key = SECRET,
      region = "us-east-1", service = "athena", time = VECTOR_TIME,
    }
    for key, value in pairs(extra or {}) do
      args[key] = value
    end
    return args
  end

  it("hashes an empty body to the well-known empty hash", function()
    assert.are.equal(EMPTY_HASH, sigv4.sha256_hex(""))
    assert.are.equal("9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
      sigv4.sha256_hex("Param1=value1"))
  end)

  it("derives the signing key that the vectors' README gives", function()
    assert.are.equal("938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75",
      sigv4.signing_key(SECRET, "20150830", "us-east-1", "service"))
  end)

  it("encodes a path holding '%' a second time, and only once for S3", function()
    local args = {
      method = "GET", path = "/a%20b", headers = { { "Host", "example.amazonaws.com" } },
      access_key = "AKIDEXAMPLE", secret_key = SECRET, region = "us-east-1",
      service = "service", time = VECTOR_TIME,
    }
    assert.are.equal("GET\n/a%2520b\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
      .. "\nhost;x-amz-date\n" .. EMPTY_HASH, sigv4.sign(args).canonical_request)
    args.normalize, args.double_encode = false, false
    assert.are.equal("/a%20b", sigv4.sign(args).canonical_request:match("^GET\n([^\n]*)"))
  end)

  it("gives the canonical form of an Athena JSON POST with X-Amz-Target", function()
    local r = sigv4.sign(athena_request())
    assert.are.equal(table.concat({
      "POST", "/", "",
      "content-type:application/x-amz-json-1.1",
      "host:athena.us-east-1.amazonaws.com",
      "x-amz-date:20150830T123600Z",
      "x-amz-target:AmazonAthena.StartQueryExecution",
      "",
      "content-type;host;x-amz-date;x-amz-target",
      "6c9421f02c8492c4f3071e98b32f1c70375000ee7e5bda9baadc876e5b1628de",
    }, "\n"), r.canonical_request)
    assert.are.equal("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/athena/aws4_request\n"
      .. "176cf0af32a1f0bc63aa20de125cdb1607b2f19f699b54713057523d2c839815", r.string_to_sign)
    -- The signature as Python's hmac and hashlib compute it for the same request.
    local signature = "7a030d7a4c7dc666c3884f7cae6d930bf2f2026aaf191145fa8c041f5bf9e540"
    assert.are.equal(signature, r.signature)
    assert.are.same({
      { "X-Amz-Date", "20150830T123600Z" },
      { "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/athena/"
        .. "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
        .. signature },
    }, r.headers)
  end)

  it("adds the session token, signed, between X-Amz-Date and Authorization", function()
    local r = sigv4.sign(athena_request({ session_token = "token/+=" }))
    assert.are.same({ "X-Amz-Date", "X-Amz-Security-Token", "Authorization" },
      { r.headers[1][1], r.headers[2][1], r.headers[3][1] })
    assert.are.equal("token/+=", r.headers[2][2])
    assert.truthy(r.canonical_request:find("\nx-amz-security-token:token/+=\n", 1, true))
    assert.truthy(r.authorization:find("SignedHeaders=content-type;host;x-amz-date;"
      .. "x-amz-security-token;x-amz-target,", 1, true))
  end)

  it("adds and signs x-amz-content-sha256 when asked to sign the body", function()
    local r = sigv4.sign(athena_request({ sign_body = true }))
    assert.are.same({ "x-amz-content-sha256",
      "6c9421f02c8492c4f3071e98b32f1c70375000ee7e5bda9baadc876e5b1628de" }, r.headers[2])
    assert.are.equal("content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target",
      r.canonical_request:match("\n\n([^\n]+)\n[^\n]+$"))
  end)

  it("presigns a URL: the request's own query first, the signature last", function()
    local r = sigv4.sign(athena_request({ method = "GET", body = "", query = "b=2&a=1",
      mode = "query", expires = 60, session_token = "tok" }))
    assert.are.equal("b=2&a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256"
      .. "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fathena%2Faws4_request"
      .. "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60"
      .. "&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target"
      .. "&X-Amz-Security-Token=tok&X-Amz-Signature=" .. r.signature, r.query)
    -- Byte order puts upper-case "X-Amz-" before "a" in the canonical query.
    assert.are.equal("X-Amz-Algorithm=AWS4-HMAC-SHA256"
      .. "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fathena%2Faws4_request"
      .. "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-Security-Token=tok"
      .. "&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-target&a=1&b=2",
      r.canonical_request:match("^GET\n/\n([^\n]*)\n"))
  end)

  it("keeps a request's own X-Amz-Date and needs no time then", function()
    local args = athena_request()
    args.time = nil
    table.insert(args.headers, { "X-Amz-Date", "20200213T220620Z" })
    local r = sigv4.sign(args)
    assert.are.equal("Authorization", r.headers[1][1])
    assert.are.equal(1, #r.headers)
    assert.truthy(r.string_to_sign:find("\n20200213/us-east-1/athena/aws4_request\n", 1, true))
  end)

  it("names the field that is wrong", function()
    local cases = {
      { { region = 1 }, "sigv4.sign: field 'region' must be a string" },
      { { region = "us-east-1/x" }, "sigv4.sign: field 'region' must be a non-empty string of "
        .. "letters, digits, '-', '_' and '.'" },
      { { secret_key = false }, "sigv4.sign: field 'secret_key' must be a string" },
      { { session_token = 7 }, "sigv4.sign: field 'session_token' must be a string or nil" },
      { { mode = "url" }, "sigv4.sign: field 'mode' must be \"header\" or \"query\"" },
      { { time = "now" }, "sigv4.sign: field 'time' must be an integer or nil" },
      { { time = 1.5 }, "sigv4.sign: field 'time' must be an integer or nil" },
      { { normalize = "yes" }, "sigv4.sign: field 'normalize' must be a boolean or nil" },
      { { headers = { Host = "h" } }, "sigv4.sign: field 'headers' must be a list of "
        .. "{ name, value } pairs, not a map" },
      { { headers = { { "Host" } } }, "sigv4.sign: headers[1] must be a { name, value } pair "
        .. "of strings" },
      { { headers = { { "Accept", "*/*" } } }, "sigv4.sign: the request has no Host header" },
      { { mode = "query", expires = 0 },
        "sigv4.sign: expires must be between 1 and 604800 seconds" },
    }
    for _, case in ipairs(cases) do
      assert.has_error(function() sigv4.sign(athena_request(case[1])) end, case[2])
    end
    local args = athena_request()
    args.time = nil
    assert.has_error(function() sigv4.sign(args) end, "sigv4.sign: field 'time' must be an "
      .. "integer (epoch seconds) unless the request has X-Amz-Date")
  end)

  it("refuses a header value that would smuggle in another header", function()
    local args = athena_request()
    table.insert(args.headers, { "X-Note", "a\r\nX-Other: b" })
    assert.has_error(function() sigv4.sign(args) end, "sigv4.sign: a header name or value that "
      .. "cannot be sent (empty name, blank or control character in a name, line break in a "
      .. "value)")
  end)
end)
