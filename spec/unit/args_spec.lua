-- The option parser every command shares (sq.args).
local args = require("sq.args")

local spec = {
  command = "demo",
  summary = "A command for the specs.",
  options = {
    { name = "dry-run", help = "render only" },
    { name = "clock", value = "ISO", help = "the clock" },
    { name = "query", value = "NAME", repeatable = true, help = "a query" },
  },
  notes = { "Exit status: 0 or 2." },
}

-- A stream that keeps what is written to it.
local function buffer()
  local parts = {}
  return {
    write = function(_, ...)
      for _, part in ipairs({ ... }) do
        parts[#parts + 1] = part
      end
    end,
    text = function()
      return table.concat(parts)
    end,
  }
end

describe("sq.args", function()
  it("parses flags, values, --name=value and repeated options", function()
    local opts = args.parse(spec, { "--dry-run", "--clock", "2020-02-13T22:06:20Z",
      "--query=a", "--query", "b" })
    assert.are.same({ dry_run = true, clock = "2020-02-13T22:06:20Z", query = { "a", "b" },
      positional = {} }, opts)
  end)

  it("gives an empty list for a repeatable option never given", function()
    assert.are.same({ query = {}, positional = {} }, args.parse(spec, {}))
  end)

  it("takes --help and -h", function()
    assert.is_true(args.parse(spec, { "--help" }).help)
    assert.is_true(args.parse(spec, { "--clock", "x", "-h" }).help)
  end)

  it("accepts an empty value written --name=", function()
    assert.are.equal("", args.parse(spec, { "--clock=" }).clock)
  end)

  it("rejects an unknown option, suggesting a known one", function()
    assert.are.same({ nil, "unknown option --dry (did you mean --dry-run?)" },
      { args.parse(spec, { "--dry" }) })
    assert.are.same({ nil, "unknown option --verbose" }, { args.parse(spec, { "--verbose" }) })
    assert.are.same({ nil, "unknown option -x" }, { args.parse(spec, { "-x" }) })
  end)

  it("rejects a missing value, a value on a flag, and a single option given twice", function()
    assert.are.same({ nil, "--clock needs a value (ISO)" }, { args.parse(spec, { "--clock" }) })
    assert.are.same({ nil, "--clock needs a value (ISO)" },
      { args.parse(spec, { "--clock", "--dry-run" }) })
    assert.are.same({ nil, "--dry-run takes no value" }, { args.parse(spec, { "--dry-run=yes" }) })
    assert.are.same({ nil, "--clock given twice" },
      { args.parse(spec, { "--clock=a", "--clock=b" }) })
  end)

  it("rejects arguments a command does not take, and keeps them for one that does", function()
    assert.are.same({ nil, 'unexpected argument "extra"' }, { args.parse(spec, { "extra" }) })
    local with_file = { command = "pass", positional = "[FILE]", options = {} }
    assert.are.same({ positional = { "event.json", "-" } },
      args.parse(with_file, { "event.json", "-" }))
    assert.are.same({ positional = { "--help" } }, args.parse(with_file, { "--", "--help" }))
  end)

  it("writes a usage line, wrapped under 80 columns", function()
    assert.are.equal("usage: bin/host demo [--dry-run] [--clock ISO] [--query NAME]... [--help]",
      args.usage(spec))
    local long = { command = "long", options = {} }
    for i = 1, 6 do
      long.options[i] = { name = "option-number-" .. i, value = "VALUE" }
    end
    assert.are.equal("usage: bin/host long [--option-number-1 VALUE] [--option-number-2 VALUE]\n"
      .. "                     [--option-number-3 VALUE] [--option-number-4 VALUE]\n"
      .. "                     [--option-number-5 VALUE] [--option-number-6 VALUE]\n"
      .. "                     [--help]",
      args.usage(long))
  end)

  it("writes the help text with every option", function()
    assert.are.equal([[
usage: bin/host demo [--dry-run] [--clock ISO] [--query NAME]... [--help]

A command for the specs.

options:
  --dry-run     render only
  --clock ISO   the clock
  --query NAME  a query (repeatable)
  --help        show this help and exit

Exit status: 0 or 2.
]], args.help(spec))
  end)

  it("prints a usage error and returns exit status 2", function()
    local err = buffer()
    assert.are.equal(2, args.fail(spec, "unknown option --x", err))
    assert.are.equal("streamquery demo: unknown option --x\n"
      .. "usage: bin/host demo [--dry-run] [--clock ISO] [--query NAME]... [--help]\n"
      .. "Run bin/host demo --help for the options.\n", err.text())
  end)
end)
