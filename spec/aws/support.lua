-- Helpers shared by the specs of spec/aws: temporary files, and client environments that
-- point at a local test server and nowhere else.
local support = {}

support.ACCESS_KEY = "AKIDEXAMPLE"
support.SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

local created = {}

-- Writes 'text' to a new temporary file and returns its path; 'mode' "755" makes it executable.
function support.write_temp(text, mode)
  local path = os.tmpname()
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
  if mode then
    assert(os.execute("chmod " .. mode .. " " .. path))
  end
  created[#created + 1] = path
  return path
end

-- Removes every temporary file written so far.
function support.cleanup()
  for _, path in ipairs(created) do
    os.remove(path)
  end
  created = {}
end

-- An environment for sq.aws / sq.credentials that reaches only 'server': its endpoint and
-- region, no instance metadata, no shared files; 'extra' adds or replaces variables.
function support.env(server, extra)
  local env = {
    AWS_REGION = server and server.region or "us-east-1",
    AWS_ENDPOINT_URL = server and server.url or nil,
    SSL_CERT_FILE = server and server.ca_file or nil,
    AWS_EC2_METADATA_DISABLED = "true",
    HOME = "/nonexistent/streamquery-home",
  }
  for key, value in pairs(extra or {}) do
    if value == false then
      env[key] = nil
    else
      env[key] = value
    end
  end
  return env
end

-- The same with the server's default static credentials.
function support.env_with_keys(server, extra)
  local env = support.env(server, extra)
  env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID or support.ACCESS_KEY
  env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY or support.SECRET
  return env
end

-- A sleep that records the delays it was asked for instead of waiting.
function support.recording_sleep()
  local delays = {}
  return function(seconds) delays[#delays + 1] = seconds end, delays
end

-- A harmless Athena call the test server answers with 200.
support.TARGET = "AmazonAthena.BatchGetQueryExecution"
support.BODY = { QueryExecutionIds = { "no-such-query" } }

return support
