-- The command line: bin/host COMMAND [OPTIONS].
-- Each command is a module sq.cmd.NAME with run(args, ctx) -> exit status.
local cli = {}

local COMMANDS = {
  { name = "validate", summary = "check the configuration and every query" },
  { name = "run", summary = "run the selected queries (or --dry-run to render them)" },
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

function cli.main(argv, root)
  local args, debug = strip_host_options(argv)
  local name = table.remove(args, 1)
  if name == nil then
    io.stderr:write(usage())
    return 2
  end
  if name == "--help" or name == "-h" or name == "help" then
    io.stdout:write(usage())
    return 0
  end
  for _, command in ipairs(COMMANDS) do
    if command.name == name then
      local module = require("sq.cmd." .. name)
      return module.run(args, { root = root, debug = debug })
    end
  end
  io.stderr:write(string.format("streamquery: unknown command %q\n\n", name), usage())
  return 2
end

return cli
