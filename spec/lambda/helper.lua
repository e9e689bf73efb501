-- Shared by the Lambda and deployment specs: paths, files, and running the
-- Node.js test tools (the Runtime API server, the state machine player).
local cjson = require("cjson")
local fileio = require("support.files")
local hclock = require("host.clock")

local helper = {}

helper.root = assert(os.getenv("STREAMQUERY_ROOT"), "STREAMQUERY_ROOT is not set")
helper.shared = helper.root .. "/../shared"
helper.servers = helper.root .. "/spec/servers"
helper.json_null = cjson.null

helper.quote, helper.write = fileio.quote, fileio.write

-- A whole file; raises when it cannot be read.
function helper.read(path)
  return (assert(fileio.read(path), "cannot read " .. path))
end

-- A fresh temporary directory; helper.cleanup removes it.
function helper.tmpdir()
  local pipe = assert(io.popen("mktemp -d"))
  local dir = pipe:read("l")
  pipe:close()
  return dir
end

function helper.cleanup(dir)
  if dir and dir:match("^/tmp/") then
    os.execute("rm -rf " .. helper.quote(dir))
  end
end

-- Runs a shell command; returns its stdout, and true when it exited 0.
function helper.run(command)
  local pipe = assert(io.popen(command))
  local output = pipe:read("a")
  local ok = pipe:close()
  return output, ok == true
end

-- Starts a shell command in the background; returns its process id.
function helper.spawn(command, log)
  local output = helper.run("(" .. command .. ") >" .. helper.quote(log) .. " 2>&1 & echo $!")
  return assert(tonumber(output:match("%d+")), "no process id")
end

-- Waits (at most limit seconds) for a file to exist and be non-empty.
function helper.wait_file(path, limit)
  local stop = hclock.monotonic() + (limit or 30)
  while hclock.monotonic() < stop do
    local file = io.open(path, "rb")
    if file then
      local size = file:seek("end")
      file:close()
      if size > 0 then
        return true
      end
    end
    hclock.sleep(0.02)
  end
  return false
end

-- Waits (at most limit seconds) for a process to end.
function helper.wait_exit(pid, limit)
  local stop = hclock.monotonic() + (limit or 30)
  while hclock.monotonic() < stop do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then
      return true
    end
    hclock.sleep(0.02)
  end
  os.execute("kill " .. pid .. " 2>/dev/null")
  return false
end

-- Writes a value as JSON to a new file in dir; returns the path. An empty
-- table is written as an empty list.
function helper.json_file(dir, name, value)
  local path = dir .. "/" .. name
  helper.write(path, next(value) == nil and "[]" or cjson.encode(value))
  return path
end

-- Plays events against a bootstrap through the Runtime API test server.
-- opts: events (list), command (shell words, already quoted), env
-- (name -> value), clear_env, timeout_secs. Returns the server's report.
function helper.play(opts)
  local dir = helper.tmpdir()
  local words = { "node", helper.quote(helper.servers .. "/lambda_runtime.js"),
    "--events", helper.quote(helper.json_file(dir, "events.json", opts.events)) }
  if opts.clear_env then
    words[#words + 1] = "--clear-env"
  end
  if opts.timeout_secs then
    words[#words + 1] = "--timeout-secs " .. opts.timeout_secs
  end
  local names = {}
  for name in pairs(opts.env or {}) do
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    words[#words + 1] = "--env " .. helper.quote(name .. "=" .. opts.env[name])
  end
  words[#words + 1] = "--"
  words[#words + 1] = opts.command
  local output, ok = helper.run(table.concat(words, " ") .. " 2>" .. helper.quote(dir .. "/err"))
  local err = helper.read(dir .. "/err")
  helper.cleanup(dir)
  assert(ok, "lambda_runtime.js failed: " .. err)
  return cjson.decode(output)
end

-- Decodes JSON lines (a log) into a list, skipping blank lines.
function helper.json_lines(text)
  local lines = {}
  for line in text:gmatch("[^\n]+") do
    lines[#lines + 1] = cjson.decode(line)
  end
  return lines
end

return helper
