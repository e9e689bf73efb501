-- The command line: bin/host COMMAND [OPTIONS].
-- Each command is a module sq.cmd.NAME with run(args, ctx) -> exit status.
local cli = {}

local COMMANDS = {
  { name = "validate", summary = "check the configuration and every query" },
  { name = "run", summary = "run the selected queries (or --dry-run to render them)" },
  { name = "pass", summary = "run one pass over a Step Functions event; print the response" },
  { name = "lambda", summary = "serve AWS Lambda invocations (the custom runtime's bootstrap)" },
}

local function usage()
  local lines = { "usage: bin/host [--root DIR] [--debug] COMMAND [OPTIONS]", "", "commands:" }
  for _, command in ipairs(COMMANDS) do
    lines[#lines + 1] = string.format("  %-10s %s", command.name, command.summary)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Run bin/host COMMAND --help for the options of one command."
  return table.concat(lines, "\n") .. "\n"
end

-- Removes the host-wide options (--root DIR, --debug) from args.
local function strip_host_options(args)
  local rest, debug = {}, false
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--root" then
      i = i + 1
    elseif a:match("^%-%-root=") then -- luacheck: ignore 542
    elseif a == "--debug" then
      debug = true
    else
      rest[#rest + 1] = a
    end
    i = i + 1
  end
  return rest, debug
end

-- The text of an error value: a string, or a table with a message.
local function error_text(err)
  if type(err) == "table" and err.message ~= nil then
    return tostring(err.message)
  end
  return tostring(err)
end

-- Runs a command; an error raised inside it becomes one line on stderr
-- (without the Lua source location unless --debug, which adds the
-- traceback) and exit status 2.
local function run_command(module, args, ctx)
  local traceback
  local ok, status = xpcall(module.run, function(err)
    traceback = debug.traceback(nil, 2)
    return err
  end, args, ctx)
  if ok then
    return status
  end
  local message = error_text(status)
  if ctx.debug then
    io.stderr:write("streamquery: error: ", message, "\n", traceback, "\n")
  else
    message = message:gsub("^[^%s:]+%.lua:%d+: ", "")
    io.stderr:write("streamquery: error: ", message, "\n")
  end
  return 2
end

function cli.main(argv, root)
  local args, debug = strip_host_options(argv)
  local name = table.remove(args, 1)
  if name == nil then
    io.stderr:write(usage())
    return 2
  end
  if name == "--help" or name == "-h" or name == "help" then
    if name == "help" and args[1] then -- help COMMAND: that command's --help
      name, args = args[1], { "--help" }
    else
      io.stdout:write(usage())
      return 0
    end
  end
  for _, command in ipairs(COMMANDS) do
    if command.name == name then
      local module = require("sq.cmd." .. name)
      return run_command(module, args, { root = root, debug = debug })
    end
  end
  io.stderr:write(string.format("streamquery: unknown command %q\n\n", name), usage())
  return 2
end

return cli
