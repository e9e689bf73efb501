-- host.memory: a hard bound on what the Lua state may allocate.
local memory = require("host.memory")

local MiB = 1024 * 1024
-- Strings of an exact size are built by concatenating halves, which
-- allocates just the result (string.rep needs twice its result for a moment).
local HALF = string.rep("x", MiB // 2)

-- Runs fn(...) under a limit of bytes with the collector stopped (so that
-- nothing is freed behind the spec's back), removes the limit, and returns
-- what pcall returned.
local function limited(bytes, fn, ...)
  collectgarbage("collect")
  collectgarbage("stop")
  memory.limit(bytes)
  local results = table.pack(pcall(fn, ...))
  memory.unlimit()
  collectgarbage("restart")
  return table.unpack(results, 1, results.n)
end

describe("host.memory", function()
  after_each(function()
    memory.unlimit()
  end)

  it("reports no use and no refusal while no limit is set", function()
    assert.are.same({ nil, false }, { memory.used(), memory.refused() })
  end)

  it("refuses growth past the limit with Lua's out-of-memory error", function()
    assert.are.same({ false, "not enough memory" }, { limited(MiB, string.rep, "x", 2 * MiB) })
  end)

  it("allows growth within the limit", function()
    local ok, s = limited(4 * MiB, string.rep, "x", MiB)
    assert.are.same({ true, MiB }, { ok, #s })
  end)

  it("counts the net bytes allocated since the limit was set", function()
    local ok, before, after = limited(8 * MiB, function()
      local before = memory.used()
      local s = string.rep("x", MiB)
      return before, memory.used(), s
    end)
    assert.is_true(ok)
    assert.is_true(before >= 0 and before < 1024, "before: " .. before)
    local grown = after - before
    assert.is_true(grown >= MiB and grown < MiB + 1024, "grown: " .. grown)
  end)

  it("sets a limit relative to the memory in use when it is set", function()
    local kept = HALF .. HALF .. HALF .. HALF
    local ok, size, used = limited(2 * MiB, function()
      local s = HALF .. HALF
      return #s, memory.used(), s
    end)
    assert.are.same({ true, MiB, 2 * MiB }, { ok, size, #kept })
    assert.is_true(used >= MiB and used < MiB + 1024, "used: " .. used)
  end)

  it("credits what is freed under the limit, and only that", function()
    local ok, size = limited(3 * MiB, function()
      local first = HALF .. HALF .. HALF .. HALF
      assert(#first == 2 * MiB)
      first = nil -- luacheck: ignore 311
      collectgarbage("collect")
      return #(HALF .. HALF .. HALF .. HALF)
    end)
    assert.are.same({ true, 2 * MiB }, { ok, size })
    assert.are.same({ false, "not enough memory" }, { limited(3 * MiB, function()
      local first = HALF .. HALF .. HALF .. HALF
      return first, HALF .. HALF .. HALF .. HALF
    end) })
  end)

  it("says whether growth was refused while the limit is in force", function()
    local refused
    local ok = limited(MiB, function()
      local fine = memory.refused()
      local failed = pcall(string.rep, "x", 2 * MiB)
      refused = { fine, failed, memory.refused() }
    end)
    assert.are.same({ true, { false, false, true } }, { ok, refused })
    assert.is_false(memory.refused())
  end)

  it("keeps refusing after a caught refusal until the limit is removed", function()
    local ok, err = limited(MiB, function()
      pcall(string.rep, "x", 2 * MiB)
      return string.rep("x", 2 * MiB)
    end)
    assert.are.same({ false, "not enough memory" }, { ok, err })
    assert.are.equal(2 * MiB, #string.rep("x", 2 * MiB))
  end)

  it("starts counting afresh when a new limit is set", function()
    local ok, used, refused = limited(MiB, function()
      pcall(string.rep, "x", 2 * MiB)
      memory.limit(3 * MiB)
      return memory.used(), memory.refused(), HALF .. HALF .. HALF .. HALF
    end)
    assert.are.same({ true, 0, false }, { ok, used, refused })
  end)

  it("is removed by limit(nil) as by unlimit()", function()
    local ok, used, refused = limited(0, function()
      local used = memory.used()
      memory.limit(nil)
      return used, memory.refused(), HALF .. HALF .. HALF .. HALF
    end)
    assert.are.same({ true, 0, false }, { ok, used, refused })
    assert.is_nil(memory.used())
  end)

  it("refuses a limit that is negative, not an integer, or missing", function()
    assert.has_error(function() memory.limit(-1) end,
      "bad argument #1 to 'limit' (a memory limit cannot be negative)")
    assert.has_error(function() memory.limit(1.5) end,
      "bad argument #1 to 'limit' (number has no integer representation)")
    assert.has_error(function() memory.limit("lots") end,
      "bad argument #1 to 'limit' (number expected, got string)")
    assert.has_error(function() memory.limit() end,
      "bad argument #1 to 'limit' (number expected, got no value)")
    assert.is_nil(memory.used())
  end)

  it("wraps the allocator once however often the module is opened", function()
    local open = package.loadlib(os.getenv("STREAMQUERY_ROOT") .. "/bin/host.so",
      "luaopen_host_memory")
    local again = open()
    assert.are_not.equal(memory, again)
    memory.limit(MiB)
    local used = again.used()
    local ok, err = pcall(string.rep, "x", 2 * MiB)
    again.unlimit()
    assert.are.same({ "integer", false, "not enough memory", nil },
      { math.type(used), ok, err, memory.used() })
  end)
end)
