-- Logging to stderr (sq.log): plain text for people, JSON lines for Lambda.
local cjson = require("cjson")
local log = require("sq.log")

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

local function no_env()
  return nil
end

describe("sq.log", function()
  it("writes plain lines with the level and sorted fields", function()
    local out = buffer()
    local logger = log.new { stream = out, getenv = no_env }
    logger:info("query started", { query = "logins", id = "70e5" })
    logger:warn("slow", { seconds = 12.5, note = "two words", quote = 'say "hi"' })
    assert.are.equal("streamquery: info: query started id=70e5 query=logins\n"
      .. 'streamquery: warning: slow note="two words" quote="say \\"hi\\"" seconds=12.5\n',
      out.text())
  end)

  it("drops messages below its level", function()
    local out = buffer()
    local logger = log.new { level = "warn", stream = out, getenv = no_env }
    logger:debug("a")
    logger:info("b")
    logger:warn("c")
    logger:error("d")
    assert.are.equal("streamquery: warning: c\nstreamquery: error: d\n", out.text())
    assert.is_false(logger:enabled("info"))
    assert.is_true(logger:enabled("error"))
  end)

  it("writes one JSON object per line, level and message first", function()
    local out = buffer()
    local logger = log.new { json = true, level = "debug", stream = out }
    logger:debug("rows sent", { query = "logins", rows = 3, tags = { "hourly" } })
    assert.are.equal('{"level":"debug","message":"rows sent","query":"logins","rows":3,'
      .. '"tags":["hourly"]}\n', out.text())
    assert.are.same({ level = "debug", message = "rows sent", query = "logins", rows = 3,
      tags = { "hourly" } }, cjson.decode(out.text()))
  end)

  it("adds a child's fields to every line, and the call's fields win", function()
    local out = buffer()
    local logger = log.new({ json = true, stream = out }):child { execution = "e1", query = "x" }
    logger:info("done", { query = "logins" })
    assert.are.equal('{"level":"info","message":"done","execution":"e1","query":"logins"}\n',
      out.text())
  end)

  it("never prints a field that holds a secret", function()
    local out = buffer()
    local logger = log.new { stream = out, getenv = no_env }
    logger:info("signed", { secret_access_key = "abc", Authorization = "AWS4 ...",
      session_token = "tok", region = "eu-west-1" })
    assert.are.equal("streamquery: info: signed Authorization=[redacted] region=eu-west-1 "
      .. "secret_access_key=[redacted] session_token=[redacted]\n", out.text())
  end)

  it("keeps level and message from being overwritten by fields", function()
    local out = buffer()
    log.new({ json = true, stream = out }):error("boom", { level = "info", message = "calm" })
    assert.are.equal('{"level":"error","message":"boom"}\n', out.text())
  end)

  it("colours the level word only when asked, and never under NO_COLOR", function()
    local out = buffer()
    log.new({ stream = out, color = true }):error("red")
    assert.are.equal("streamquery: \27[31merror\27[0m: red\n", out.text())
    local env = { NO_COLOR = "1" }
    local plain = log.new { stream = io.stderr, getenv = function(name) return env[name] end }
    assert.is_false(plain.color)
    assert.is_false(log.new({ stream = buffer(), getenv = no_env }).color)
    assert.is_false(log.new({ json = true, color = true, stream = buffer() }).color)
  end)

  it("understands the level names of the configuration", function()
    assert.are.equal("warn", log.level_name("WARNING"))
    assert.are.equal("error", log.level_name("critical"))
    assert.are.equal("debug", log.level_name("Debug"))
    assert.is_nil(log.level_name("loud"))
    assert.has_error(function() log.new { level = "loud" } end,
      'unknown log level "loud" (use debug, info, warn or error)')
  end)
end)
