-- The Lambda package (deploy/package.sh, make package): what is in it, what
-- its ELF files need, and that it runs unzipped into an empty folder.
local cjson = require("cjson")
local servers = require("support.servers")
local e2e = require("support.e2e")
local helper = require("lambda.helper")
local queries = require("sq.queries")
local render = require("deploy.render")

local GLIBC_MAX = { 2, 34 } -- Amazon Linux 2023
local GLIBC_LIBS = { ["ld-linux-x86-64.so.2"] = true, ["libc.so.6"] = true,
  ["libm.so.6"] = true, ["libdl.so.2"] = true, ["libpthread.so.0"] = true,
  ["librt.so.1"] = true, ["libresolv.so.2"] = true }
local EVENT = { name = "streamalert_scheduled_queries_cloudwatch_trigger", event_id = "e-1",
  source_arn = "arn:aws:events:us-east-1:123456789012:rule/streamquery_streamquery_hourly",
  streamquery_configuration = { clock = "2020-02-13T22:01:00Z", tags = { "hourly" } } }

-- Every file under dir, relative to it, sorted.
local function files_under(dir)
  local output = helper.run("cd " .. helper.quote(dir) .. " && find . -type f | LC_ALL=C sort")
  local files = {}
  for line in output:gmatch("[^\n]+") do
    files[#files + 1] = line:sub(3)
  end
  return files
end

local function is_elf(path)
  local file = assert(io.open(path, "rb"))
  local magic = file:read(4)
  file:close()
  return magic == "\127ELF"
end

describe("the Lambda package", function()
  local dir, unpacked, zip

  setup(function()
    dir = helper.tmpdir()
    zip = dir .. "/streamquery-lambda.zip"
    -- what make package installs first
    local output, ok = helper.run("sh " .. helper.quote(helper.root
      .. "/spec/support/ensure-debs.sh") .. " zip binutils 2>&1")
    assert(ok, output)
    output, ok = helper.run("sh " .. helper.quote(helper.root .. "/deploy/package.sh") .. " "
      .. helper.quote(zip) .. " 2>&1")
    assert(ok, "package.sh failed: " .. output)
    unpacked = dir .. "/task"
    os.execute("mkdir " .. helper.quote(unpacked))
    assert(helper.run("cd " .. helper.quote(unpacked) .. " && unzip -q " .. helper.quote(zip)
      .. " && echo unzipped") == "unzipped\n")
  end)

  teardown(function()
    helper.cleanup(dir)
  end)

  it("has bootstrap at its root, the host, the Lua code, the queries, the configuration", function()
    local files = files_under(unpacked)
    local present = {}
    for _, file in ipairs(files) do
      present[file] = true
    end
    for _, file in ipairs({ "bootstrap", "bin/host", "lib/cjson.so",
      "lib/liblua5.4.so.0",
      "lib/libcurl.so.4", "lua/sq/cmd/lambda.lua", "lua/sq/handler.lua",
      "conf/scheduled_queries.json", "conf/schemas/streamquery.json" }) do
      assert.is_true(present[file], file)
    end
    for _, file in ipairs(files_under(helper.root .. "/scheduled_queries")) do
      assert.is_true(present["scheduled_queries/" .. file], file)
    end
    assert.are.equal("-rwxr-xr-x", helper.run("stat -c %A " .. helper.quote(unpacked
      .. "/bootstrap")):match("%S+"))
  end)

  it("is the same zip, byte for byte, when built again from the same sources", function()
    local again = dir .. "/again.zip"
    local output, ok = helper.run("sh " .. helper.quote(helper.root .. "/deploy/package.sh")
      .. " " .. helper.quote(again) .. " 2>&1")
    assert(ok, "package.sh failed: " .. output)
    local sums = helper.run("sha256sum " .. helper.quote(zip) .. " " .. helper.quote(again))
    local first, second = sums:match("^(%x+).-\n(%x+)")
    assert.are.equal(first, second)
  end)

  it("carries the Lua modules precompiled and the query files as source", function()
    local function head(path)
      local f = assert(io.open(unpacked .. "/" .. path, "rb"))
      local bytes = f:read(4)
      f:close()
      return bytes
    end
    assert.are.equal("\27Lua", head("lua/sq/pass.lua"))
    assert.are.equal("\27Lua", head("lua/sq/cmd/lambda.lua"))
    local first = files_under(helper.root .. "/scheduled_queries")[1]
    assert.are_not.equal("\27Lua", head("scheduled_queries/" .. first))
  end)

  it("has no ELF file that needs a glibc newer than 2.34", function()
    local checked = 0
    for _, file in ipairs(files_under(unpacked)) do
      local path = unpacked .. "/" .. file
      if is_elf(path) then
        checked = checked + 1
        local needs = helper.run("readelf -V " .. helper.quote(path))
        for major, minor in needs:gmatch("Name: GLIBC_(%d+)%.(%d+)") do
          major, minor = tonumber(major), tonumber(minor)
          assert.is_true(major < GLIBC_MAX[1] or (major == GLIBC_MAX[1] and minor <= GLIBC_MAX[2]),
            file .. " needs GLIBC_" .. major .. "." .. minor)
        end
      end
    end
    assert.is_true(checked >= 10, "ELF files checked: " .. checked)
  end)

  it("carries every library it needs except glibc's", function()
    local output = helper.run("LD_LIBRARY_PATH=" .. helper.quote(unpacked .. "/lib") .. " ldd "
      .. helper.quote(unpacked .. "/bin/host") .. " " .. helper.quote(unpacked .. "/lib/cjson.so"))
    assert.is_nil(output:find("not found", 1, true), output)
    local resolved = 0
    for name, path in output:gmatch("\n%s*(%S+) => (%S+)") do
      resolved = resolved + 1
      if not GLIBC_LIBS[name] then
        assert.are.equal(unpacked .. "/lib/" .. name, path)
      end
    end
    assert.is_true(resolved >= 10, output)
  end)

  it("is refused at build time when a file needs a newer glibc than the runtime's", function()
    local output, ok = helper.run("GLIBC_MAX=2.33 sh " .. helper.quote(helper.root
      .. "/deploy/package.sh") .. " " .. helper.quote(dir .. "/refused.zip") .. " 2>&1")
    assert.is_false(ok)
    assert.truthy(output:find("package.sh: glibc 2.33 is the newest the Lambda runtime has:\n",
      1, true), output)
    assert.truthy(output:find("\nbin/host needs GLIBC_2.34\n", 1, true), output)
    assert.is_nil(io.open(dir .. "/refused.zip"))
  end)

  describe("unzipped into an empty folder", function()
    local server

    -- Plays events against the packaged bootstrap in a minimal
    -- environment, like Lambda's, plus the test server's endpoint and
    -- credentials; `wrap` is a shell prefix for the bootstrap.
    local function play(events, env, wrap)
      local minimal = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin", LAMBDA_TASK_ROOT = unpacked,
        AWS_LAMBDA_FUNCTION_NAME = "streamquery_streamquery", LANG = "C.UTF-8" }
      for key, value in pairs(env) do
        minimal[key] = value
      end
      return helper.play({ events = events, clear_env = true, env = minimal,
        command = (wrap or "") .. helper.quote(unpacked .. "/bootstrap") })
    end

    after_each(function()
      if server then
        server:stop()
        server = nil
      end
    end)

    it("serves invocations and delivers records, with no command on its PATH", function()
      server = servers.start({ "--kinesis" })
      local cfg = render.sample_config()
      e2e.create_stream(server, cfg.stream)
      server:scripts({ { result = { columns = { "n" }, rows = { { "1" } } } } })
      local env = server:env()
      env.SSL_CERT_FILE = nil
      env.PATH = dir .. "/empty" -- no find(1), no anything: a bare runtime image
      os.execute("mkdir -p " .. helper.quote(env.PATH))
      local report = play({ "not json", EVENT }, env)
      local ready
      for _, line in ipairs(helper.json_lines(report.stderr)) do
        ready = line.message == "ready" and line or ready
      end
      local samples = assert(queries.load_dir(helper.root .. "/scheduled_queries"))
      assert.are.equal(#samples.list, ready.queries)
      assert.are.same({}, report.init_errors)
      assert.are.same({}, report.protocol_errors)
      assert.are.equal("InvalidEvent", report.invocations[1].error.errorType)
      assert.are.equal("response", report.invocations[2].outcome, cjson.encode(report))
      assert.are.equal(1, report.invocations[2].response.done)
      local records = e2e.read_stream(server, cfg.stream)
      assert.is_true(#records >= 1)
      assert.are.same({ headers = { "n" }, rows = { { n = "1" } }, count = 1 },
        records[1].record.data)
    end)

    it("finds the CA bundle that exists only at the Amazon Linux path", function()
      server = servers.start({ "--tls", "--kinesis" })
      local cfg = render.sample_config()
      e2e.create_stream(server, cfg.stream)
      server:scripts({ { result = { columns = { "n" }, rows = { { "2" } } } } })
      local env = server:env()
      env.SSL_CERT_FILE = nil
      assert.truthy(env.AWS_ENDPOINT_URL:match("^https://"), env.AWS_ENDPOINT_URL)
      -- A private mount namespace: /etc seen through an overlay where the
      -- Debian bundle and certificate folder are gone and the test
      -- server's CA is the Amazon Linux bundle. The real /etc is untouched.
      os.execute("mkdir -p " .. helper.quote(dir .. "/upper") .. " " .. helper.quote(dir
        .. "/work"))
      local setup = table.concat({
        "mount --make-rprivate /",
        "mount -t overlay overlay -o lowerdir=/etc,upperdir=" .. dir .. "/upper,workdir=" .. dir
          .. "/work /etc",
        "mount -t tmpfs tmpfs /etc/ssl/certs",
        "mkdir -p /etc/pki/tls/certs",
        "cp " .. helper.quote(server.ca_file) .. " /etc/pki/tls/certs/ca-bundle.crt",
        'exec "$0"' }, " && ")
      local had_al_bundle = io.open("/etc/pki/tls/certs/ca-bundle.crt") ~= nil
      local report = play({ EVENT }, env, "unshare -m sh -c " .. helper.quote(setup) .. " ")
      assert.are.same({}, report.init_errors, report.stderr)
      assert.are.equal("response", report.invocations[1].outcome, cjson.encode(report))
      assert.are.equal(1, report.invocations[1].response.done)
      local ready
      for _, line in ipairs(helper.json_lines(report.stderr)) do
        if line.message == "ready" then
          ready = line
        end
      end
      assert.are.equal("/etc/pki/tls/certs/ca-bundle.crt", ready.ca_bundle)
      local records = e2e.read_stream(server, cfg.stream)
      assert.are.same({ headers = { "n" }, rows = { { n = "2" } }, count = 1 },
        records[1].record.data)
      assert.are.equal(had_al_bundle, io.open("/etc/pki/tls/certs/ca-bundle.crt") ~= nil)
    end)
  end)
end)
