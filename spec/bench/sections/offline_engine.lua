-- The offline engine's figures come from its own benchmark program,
-- spec/bench/offline.lua (written with the engine); this section runs it
-- and quotes what it prints.
local lib = require("bench.lib")

local offline = { id = "offline", title = "The offline engine" }

local PROGRAM = "spec/bench/offline.lua"

-- The figures of its two lines, when they read as they do now; the
-- output is quoted whole in any case.
local function add_figures(section, text)
  local records, cpu, per_cpu = text:match("loaded (%d+) CloudTrail records.- in ([%d.]+) s "
    .. "of CPU: ([%d.]+) records/s")
  local wall, per_wall = text:match("; ([%d.]+) s wall clock, ([%d.]+) records/s")
  if records then
    section:figure { name = string.format("CloudTrail records loaded per second of CPU time, "
      .. "%s records", lib.number(tonumber(records))), value = tonumber(per_cpu),
      format = "%.0f", runs = 1, spread = cpu .. " s", target = 50000, better = "higher",
      command = "lua5.4 " .. PROGRAM }
  end
  if per_wall then
    section:figure { name = "the same, per second of wall time", value = tonumber(per_wall),
      format = "%.0f", runs = 1, spread = wall .. " s", command = "lua5.4 " .. PROGRAM }
  end
  local command, seconds, runs = text:match("offline engine: ([^\n]-): ([%d.]+) s %(median of "
    .. "(%d+)")
  if command then
    section:figure { name = "the README's main command", value = tonumber(seconds), unit = "s",
      format = "%.3f", runs = tonumber(runs), target = 1, command = command }
  end
end

-- The section: returns its figures.
function offline.run()
  local section = lib.section("The offline engine", "CloudTrail records loaded per second "
    .. "from a generated file of 200,000 records, and the time of the README's main command, "
    .. "as printed by `" .. PROGRAM .. "`.")
  local path = lib.ROOT .. "/" .. PROGRAM
  if not lib.read(path) then
    section:note("Not measured: `" .. PROGRAM .. "` does not exist yet.")
    return section
  end
  lib.progress("offline engine: %s", PROGRAM)
  local argv = { "lua5.4", path }
  local m = lib.measure(argv, { cwd = lib.ROOT })
  section:command("lua5.4 " .. PROGRAM)
  local text = m.stdout:gsub("%s+$", "")
  add_figures(section, text)
  section:note("Its output:\n\n```\n" .. text .. "\n```")
  if m.status ~= 0 then
    section:note(string.format("It exited with status %s:\n\n```\n%s\n```", tostring(m.status),
      m.stderr:sub(-1500)))
  end
  return section
end

return offline
