-- A tiny Lambda function for the state machine player's own specs, on the
-- Runtime API client (host.runtime): it answers { n = its invocation count,
-- seen = the payload }, or fails with the payload's fail_with error type
-- while n <= the payload's fail_times.
local cjson = require("cjson")
local runtime = require("host.runtime")

local client = assert(runtime.client())
local n = 0
while true do
  local body, info = client:next()
  if not body then
    io.stderr:write(info, "\n")
    os.exit(1)
  end
  n = n + 1
  local payload = cjson.decode(body)
  if payload.fail_with and n <= (payload.fail_times or math.huge) then
    client:fail(info.request_id, payload.fail_with, "failure " .. n)
  else
    client:respond(info.request_id, cjson.encode({ n = n, seen = payload }))
  end
end
