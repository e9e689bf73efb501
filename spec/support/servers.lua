-- Starts the local AWS test server (spec/servers/aws.js) for specs, and
-- talks to it with curl: its control API, and signed AWS requests.
--
--   local servers = require("support.servers")
--   local s = servers.start({ "--kinesis", "--latency-ms", "5" })
--   s.url, s.port, s.info                   -- info is the decoded ready line
--   s:control("POST", "/__control/faults", { rules = { ... } })
--   s:stats()
--   s:call("AmazonAthena.GetQueryExecution", { QueryExecutionId = id })
--   s:stop()                                -- also on garbage collection
--
-- The server's stdin is a pipe held here: when the test process ends, for
-- whatever reason, the server reads end of file and exits.
local cjson = require("cjson")
local fileio = require("support.files")

local servers = {}

local Server = {}
Server.__index = Server

local DEFAULT_ACCESS_KEY = "AKIDEXAMPLE"
local DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local TARGET_SERVICES = { AmazonAthena = "athena", Kinesis_20131202 = "kinesis" }

local ok_clock, clock = pcall(require, "host.clock")

-- The repository root: STREAMQUERY_ROOT during specs, else the working directory.
local function root()
  return os.getenv("STREAMQUERY_ROOT") or "."
end

local shell_quote = fileio.quote

-- Quotes a string for a curl config file.
local function curl_quote(text)
  return '"' .. tostring(text):gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

local read_file, write_file = fileio.read, fileio.write

-- Seconds on a monotonic clock (os.clock counts CPU time when host.clock is missing).
local function now()
  return ok_clock and clock.monotonic() or os.clock()
end

-- Waits a short while.
local function pause(seconds)
  if ok_clock then
    clock.sleep(seconds)
  else
    os.execute("sleep " .. seconds)
  end
end

-- Whether the process `pid` is still there.
local function alive(pid)
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

-- The credentials the server accepts first: from --credentials, or its default.
local function first_credentials(args)
  for i = 1, #args - 1 do
    if args[i] == "--credentials" then
      local key, secret, token = args[i + 1]:match("^([^:]+):([^:]+):?(.*)$")
      return key, secret, token ~= "" and token or nil
    end
  end
  return DEFAULT_ACCESS_KEY, DEFAULT_SECRET, nil
end

-- Starts the server with command-line `args` (a list of strings) and waits
-- for its ready line.  `options.timeout` is in seconds (default 10).
function servers.start(args, options)
  args = args or {}
  options = options or {}
  local dir = root() .. "/spec/servers"
  if not read_file(dir .. "/node_modules/.package-lock.json") then
    error("the test servers' npm packages are missing: run `make test-deps`", 2)
  end
  local files = { out = os.tmpname(), err = os.tmpname(), pid = os.tmpname() }
  local words = { "exec", "node", shell_quote(dir .. "/aws.js") }
  for _, arg in ipairs(args) do
    words[#words + 1] = shell_quote(arg)
  end
  local command = "echo $$ > " .. shell_quote(files.pid) .. "; " .. table.concat(words, " ")
    .. " > " .. shell_quote(files.out) .. " 2> " .. shell_quote(files.err)
  local pipe = assert(io.popen(command, "w"))
  local self = setmetatable({ pipe = pipe, files = files, args = args }, Server)
  local deadline = now() + (options.timeout or 10)
  local line
  local checks = 0
  repeat
    local out = read_file(files.out) or ""
    line = out:match("^([^\n]*)\n")
    if not line then
      checks = checks + 1
      self.pid = self.pid or tonumber((read_file(files.pid) or ""):match("%d+"))
      if checks % 20 == 0 and self.pid and not alive(self.pid) then
        break
      end
      pause(0.005)
    end
  until line or now() > deadline
  self.pid = self.pid or tonumber((read_file(files.pid) or ""):match("%d+"))
  local decoded = line and select(2, pcall(cjson.decode, line))
  if type(decoded) ~= "table" then
    local log = read_file(files.err) or ""
    self:stop()
    error("the test server did not start (" .. table.concat(args, " ") .. "):\n" .. log, 2)
  end
  self.info = decoded
  self.url = decoded.url
  self.port = decoded.port
  self.ca_file = decoded.ca_file
  self.region = decoded.region
  self.access_key_id, self.secret_access_key, self.session_token = first_credentials(args)
  return self
end

-- Stops the server (SIGTERM, then end of file on its stdin) and waits for it.
function Server:stop()
  if self.stopped then
    return
  end
  self.stopped = true
  if self.pid then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  end
  if io.type(self.pipe) == "file" then
    self.pipe:close()
  end
  for _, path in pairs(self.files) do
    os.remove(path)
  end
end

Server.__gc = Server.stop
Server.__close = Server.stop

-- What the server wrote to stderr so far.
function Server:log()
  return read_file(self.files.err) or ""
end

-- Runs curl with the lines of a config file (and `body`, a string, as the
-- request body when given); returns status, body, headers (a table keyed by
-- lowercase name).  Raises when curl itself fails.
function Server:curl(config, body)
  local tmp = { config = os.tmpname(), body = os.tmpname(), out = os.tmpname(),
                headers = os.tmpname() }
  local lines = { "silent", "show-error", 'noproxy = "*"', "max-time = 60",
                  "output = " .. curl_quote(tmp.out),
                  "dump-header = " .. curl_quote(tmp.headers),
                  'write-out = "%{http_code}"' }
  if body then
    write_file(tmp.body, body)
    lines[#lines + 1] = "data-binary = " .. curl_quote("@" .. tmp.body)
  end
  if self.ca_file then
    lines[#lines + 1] = "cacert = " .. curl_quote(self.ca_file)
  end
  for _, line in ipairs(config) do
    lines[#lines + 1] = line
  end
  write_file(tmp.config, table.concat(lines, "\n") .. "\n")
  local pipe = assert(io.popen("curl -K " .. shell_quote(tmp.config) .. " 2>&1"))
  local written = pipe:read("a")
  local ok = pipe:close()
  local text, header_text = read_file(tmp.out) or "", read_file(tmp.headers) or ""
  for _, path in pairs(tmp) do
    os.remove(path)
  end
  local status = tonumber(written:match("(%d%d%d)$"))
  if not ok or not status or status == 0 then
    error("curl failed: " .. written, 2)
  end
  local headers = {}
  for name, value in header_text:gmatch("([%w%-]+):%s*([^\r\n]*)") do
    headers[name:lower()] = value
  end
  return status, text, headers
end

-- A control API request; `body` (a table) is sent as JSON.  Returns the
-- decoded answer; raises on an HTTP error, with the server's message.
function Server:control(method, path, body)
  local status, text = self:curl({ "request = " .. curl_quote(method),
    "url = " .. curl_quote(self.url .. path),
    'header = "Content-Type: application/json"' }, body and cjson.encode(body))
  local ok, decoded = pcall(cjson.decode, text)
  if status >= 400 then
    error(("control %s %s: HTTP %d: %s"):format(method, path, status,
      ok and type(decoded) == "table" and decoded.error or text), 2)
  end
  return decoded
end

-- The server's counters (GET /__control/stats).
function Server:stats()
  return self:control("GET", "/__control/stats")
end

-- Clears stats, faults and Athena state.
function Server:reset()
  return self:control("POST", "/__control/reset", {})
end

-- Adds fault rules.
function Server:faults(rules)
  return self:control("POST", "/__control/faults", { rules = rules })
end

-- Replaces the Athena scripts.
function Server:scripts(scripts)
  return self:control("POST", "/__control/athena/scripts", { scripts = scripts })
end

-- Every Athena query started so far.
function Server:queries()
  return self:control("GET", "/__control/athena/queries").queries
end

-- A SigV4-signed AWS JSON request made by curl (an independent signer).
-- `payload` is a table (encoded as JSON) or a string sent as it is.
-- `options`: access_key_id, secret_access_key, session_token (default: the
-- server's first credentials; false sends none), region, service (default:
-- from the target), unsigned (true: no Authorization), max_time (seconds).
-- Returns status, the decoded body (or the raw text), headers.
function Server:call(target, payload, options)
  options = options or {}
  local service = options.service or TARGET_SERVICES[target:match("^([^.]+)")] or "athena"
  local token = options.session_token
  if token == nil then
    token = self.session_token
  end
  local config = {
    'request = "POST"',
    "url = " .. curl_quote(self.url .. "/"),
    "header = " .. curl_quote("X-Amz-Target: " .. target),
    'header = "Content-Type: application/x-amz-json-1.1"',
  }
  if not options.unsigned then
    config[#config + 1] = "aws-sigv4 = "
      .. curl_quote("aws:amz:" .. (options.region or self.region) .. ":" .. service)
    config[#config + 1] = "user = " .. curl_quote((options.access_key_id or self.access_key_id)
      .. ":" .. (options.secret_access_key or self.secret_access_key))
  end
  if options.max_time then
    config[#config + 1] = "max-time = " .. options.max_time
  end
  if token then
    config[#config + 1] = "header = " .. curl_quote("X-Amz-Security-Token: " .. token)
  end
  local body = type(payload) == "string" and payload or cjson.encode(payload or {})
  local status, text, headers = self:curl(config, body)
  local ok, decoded = pcall(cjson.decode, text)
  return status, ok and decoded or text, headers
end

-- The environment that points an AWS client at this server (AWS_* names).
function Server:env()
  return {
    AWS_ENDPOINT_URL = self.url,
    AWS_REGION = self.region,
    AWS_ACCESS_KEY_ID = self.access_key_id,
    AWS_SECRET_ACCESS_KEY = self.secret_access_key,
    AWS_SESSION_TOKEN = self.session_token,
    AWS_EC2_METADATA_DISABLED = "true",
    SSL_CERT_FILE = self.ca_file,
  }
end

return servers
