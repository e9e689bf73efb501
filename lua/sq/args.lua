-- A small option parser shared by every command.
--
--   local spec = {
--     command = "run",
--     summary = "run the selected queries",
--     options = {
--       { name = "dry-run", help = "print the SQL instead of running it" },
--       { name = "clock", value = "ISO", help = "the execution clock" },
--       { name = "query", value = "NAME", repeatable = true, help = "..." },
--     },
--     notes = { "lines printed after the options in --help" },
--   }
--   local opts, err = args.parse(spec, argv)
--   --> { dry_run = true, clock = "...", query = { "a", "b" }, help = nil }
--
-- Long options only (and -h): --name, --name VALUE, --name=VALUE; "--"
-- ends the options. Every command knows --help. A mistake returns nil and
-- a message; args.fail() prints it with the usage line (exit status 2).
local args = {}

local HELP = { name = "help", help = "show this help and exit" }

-- The options of a spec, --help included, in the order --help lists them.
local function options_of(spec)
  local list = {}
  for _, option in ipairs(spec.options or {}) do
    list[#list + 1] = option
  end
  list[#list + 1] = HELP
  return list
end

-- The key an option's value is stored under: dry-run -> dry_run.
local function key_of(option)
  return (option.name:gsub("-", "_"))
end

-- " (did you mean --x?)" for an unknown option close to a known one.
local function nearest(name, list)
  for _, option in ipairs(list) do
    local known = option.name
    if known:sub(1, #name) == name or name:sub(1, #known) == known then
      return " (did you mean --" .. known .. "?)"
    end
  end
  return ""
end

-- Parses argv against spec. Returns opts, or nil and a message.
function args.parse(spec, argv)
  local list = options_of(spec)
  local by_name = {}
  for _, option in ipairs(list) do
    by_name[option.name] = option
  end
  local opts, positional = {}, {}
  for _, option in ipairs(list) do
    if option.repeatable then
      opts[key_of(option)] = {}
    end
  end
  local i = 1
  while i <= #argv do
    local arg = argv[i]
    if arg == "--" then
      table.move(argv, i + 1, #argv, #positional + 1, positional)
      break
    elseif arg == "-h" then
      opts.help = true
    elseif arg:sub(1, 2) == "--" then
      local name, inline = arg:match("^%-%-([^=]+)=(.*)$")
      name = name or arg:sub(3)
      local option = by_name[name]
      if option == nil then
        return nil, string.format("unknown option --%s%s", name, nearest(name, list))
      end
      local value = true
      if option.value then
        if inline then
          value = inline
        else
          value = argv[i + 1]
          if value == nil or (value:sub(1, 2) == "--" and #value > 2) then
            return nil, string.format("--%s needs a value (%s)", name, option.value)
          end
          i = i + 1
        end
      elseif inline then
        return nil, string.format("--%s takes no value", name)
      end
      local key = key_of(option)
      if option.repeatable then
        table.insert(opts[key], value)
      elseif opts[key] ~= nil and option.value then
        return nil, string.format("--%s given twice", name)
      else
        opts[key] = value
      end
    elseif arg:sub(1, 1) == "-" and #arg > 1 then
      return nil, string.format("unknown option %s", arg)
    else
      positional[#positional + 1] = arg
    end
    i = i + 1
  end
  if #positional > 0 and not spec.positional and not opts.help then
    return nil, string.format("unexpected argument %q", positional[1])
  end
  opts.positional = positional
  return opts
end

-- "usage: bin/host run [--dry-run] [--clock ISO] ..."
function args.usage(spec)
  local parts = { "usage: bin/host " .. spec.command }
  for _, option in ipairs(options_of(spec)) do
    local text = "--" .. option.name .. (option.value and " " .. option.value or "")
    parts[#parts + 1] = "[" .. text .. "]" .. (option.repeatable and "..." or "")
  end
  if spec.positional then
    parts[#parts + 1] = spec.positional
  end
  local lines, line = {}, parts[1]
  local indent = string.rep(" ", #parts[1] + 1)
  for i = 2, #parts do
    if #line + 1 + #parts[i] > 79 then
      lines[#lines + 1] = line
      line = indent .. parts[i]
    else
      line = line .. " " .. parts[i]
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- The whole --help text.
function args.help(spec)
  local lines = { args.usage(spec), "" }
  if spec.summary then
    lines[#lines + 1] = spec.summary
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "options:"
  local width = 0
  local labels = {}
  for i, option in ipairs(options_of(spec)) do
    labels[i] = "--" .. option.name .. (option.value and " " .. option.value or "")
    width = math.max(width, #labels[i])
  end
  local indent = string.rep(" ", width + 4)
  for i, option in ipairs(options_of(spec)) do
    local help = option.help or ""
    if option.repeatable then
      help = help .. " (repeatable)"
    end
    local line = string.format("  %-" .. width .. "s ", labels[i])
    for word in help:gmatch("%S+") do
      if #line + 1 + #word > 79 and #line > #indent then
        lines[#lines + 1] = line
        line = indent .. word
      else
        line = line .. " " .. word
      end
    end
    lines[#lines + 1] = line
  end
  if spec.notes then
    lines[#lines + 1] = ""
    for _, note in ipairs(spec.notes) do
      lines[#lines + 1] = note
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Prints a usage error to stream (default stderr) and returns exit status 2.
function args.fail(spec, message, stream)
  stream = stream or io.stderr
  stream:write(string.format("streamquery %s: %s\n%s\nRun bin/host %s --help for the options.\n",
    spec.command, message, args.usage(spec), spec.command))
  return 2
end

return args
