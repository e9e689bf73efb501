-- host.http against the local test server over TLS: certificates, connection reuse and
-- concurrency counted at the server, timeouts.
local http = require("host.http")
local servers = require("support.servers")

-- Runs a Lua snippet in a fresh lua5.4 with the given environment prefix; returns its output.
local function run_lua(prefix, code)
  local command = prefix .. " lua5.4 -e '" .. code .. "' 2>&1"
  local pipe = assert(io.popen(command))
  local output = pipe:read("a")
  pipe:close()
  return output
end

-- An unsigned request the server answers with 200: an instance-metadata token.
local function token_request(server, extra)
  local request = { method = "PUT", url = server.url .. "/latest/api/token",
    headers = { { "X-aws-ec2-metadata-token-ttl-seconds", "60" } } }
  for key, value in pairs(extra or {}) do
    request[key] = value
  end
  return request
end

describe("host.http over TLS", function()
  local server

  setup(function()
    server = servers.start({ "--tls" })
  end)

  teardown(function()
    server:stop()
  end)

  before_each(function()
    server:reset()
  end)

  it("verifies a local server whose CA is named only by SSL_CERT_FILE", function()
    local code = ([[
      local r = require("host.http").new():perform{ { url = "%s/__control/stats" } }[1]
      print(r.status or r.kind)
    ]]):format(server.url)
    assert.are.equal("200\n", run_lua("SSL_CERT_FILE=" .. server.ca_file, code))
  end)

  it("fails verification of that server without SSL_CERT_FILE", function()
    local code = ([[
      local r = require("host.http").new():perform{ { url = "%s/__control/stats" } }[1]
      print(r.status or r.kind)
    ]]):format(server.url)
    assert.are.equal("tls\n", run_lua("env -u SSL_CERT_FILE", code))
  end)

  it("names the CA bundle it uses", function()
    assert.are.equal(server.ca_file, http.ca_bundle(server.ca_file))
  end)

  it("sends 50 sequential requests over one connection", function()
    local client <close> = http.new{ ca_file = server.ca_file, concurrency = 8 }
    local statuses, connects = {}, 0
    for _ = 1, 50 do
      local response = client:perform{ token_request(server) }[1]
      statuses[response.status] = (statuses[response.status] or 0) + 1
      connects = connects + response.connects
    end
    assert.are.same({ [200] = 50 }, statuses)
    assert.are.equal(1, connects)
    local stats = server:stats()
    assert.are.equal(50, stats.requests)
    assert.are.equal(1, stats.connections)
  end)

  it("opens at most 'concurrency' connections for 50 concurrent requests", function()
    local client <close> = http.new{ ca_file = server.ca_file, concurrency = 8 }
    local requests = {}
    for i = 1, 50 do
      requests[i] = token_request(server)
    end
    local responses = client:perform(requests)
    local connects = 0
    for i = 1, 50 do
      assert.are.equal(200, responses[i].status, i)
      connects = connects + responses[i].connects
    end
    local stats = server:stats()
    assert.are.equal(50, stats.requests)
    -- eight transfers start together, none finds an idle connection: exactly eight
    assert.are.equal(8, connects)
    assert.are.equal(8, stats.connections)
    assert.are.equal(8, stats.max_open_connections)
  end)

  it("gives up on a hung server at the request's timeout", function()
    server:faults({ { action = "hang", target = "IMDS", times = 1 } })
    local client <close> = http.new{ ca_file = server.ca_file }
    local response = client:perform{ token_request(server, { timeout = 0.5 }) }[1]
    assert.are.equal("timeout", response.kind)
    assert.are.equal(1, response.error:find("timed out talking to " .. server.url, 1, true))
  end)

  it("reports a connection reset by the server", function()
    server:faults({ { action = "reset", target = "IMDS", times = 1 } })
    local client <close> = http.new{ ca_file = server.ca_file }
    local response = client:perform{ token_request(server) }[1]
    assert.are.equal("reset", response.kind)
  end)
end)
