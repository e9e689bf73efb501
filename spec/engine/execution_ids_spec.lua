-- The local engine's execution ids: unique across processes, the same for a repeated token,
-- and an id this engine never issued is FAILED rather than running forever.
local support = require("sql.support")

-- The reason given for a local id that this engine does not know.
local function lost(id)
  return "QUERY_NOT_FOUND: the local engine has no query " .. id .. ": it keeps query results"
    .. " only within the process that started the query, and a pass in a new process cannot"
    .. " read them; run this execution again with bin/host run --engine local, which runs"
    .. " every pass in one process"
end

describe("the local engine's execution ids", function()
  local data, engines

  -- A new engine on the same data, as a new process would make (closed after each spec).
  local function new_engine()
    local engine = support.engine(data)
    engines[#engines + 1] = engine
    return engine
  end

  setup(function()
    data = support.tempdir()
    support.write(data, "numbers/schema.json", [[{"columns": [{"name": "n", "type": "bigint"}]}]])
    support.write(data, "numbers/x.json", '{"n": 1}\n{"n": 2}\n')
  end)

  teardown(function()
    support.remove(data)
  end)

  before_each(function()
    engines = {}
  end)

  after_each(function()
    for _, engine in ipairs(engines) do
      engine:close()
    end
  end)

  it("are local- and 32 hex digits, with a token or without", function()
    local started = new_engine():start({ { name = "a", sql = "SELECT 1", token = "t-1" },
                                         { name = "b", sql = "SELECT 2" } })
    local shape = "^local%-" .. string.rep("%x", 32) .. "$"
    assert.are.equal(started[1].id, started[1].id:match(shape))
    assert.are.equal(started[2].id, started[2].id:match(shape))
  end)

  it("differ between two processes starting the same query with different tokens", function()
    local sql = "SELECT n FROM numbers ORDER BY n"
    local first = new_engine():start({ { name = "q", sql = sql, token = "execution-1 q" } })
    local second = new_engine():start({ { name = "q", sql = sql, token = "execution-2 q" } })
    assert.are_not.equal(first[1].id, second[1].id)
  end)

  it("differ between two processes starting queries without tokens", function()
    local one, two = new_engine(), new_engine()
    local first = one:start({ { name = "q", sql = "SELECT 1" }, { name = "r", sql = "SELECT 2" } })
    local second = two:start({ { name = "q", sql = "SELECT 1" }, { name = "r", sql = "SELECT 2" } })
    local seen = {}
    for _, started in ipairs({ first[1], first[2], second[1], second[2] }) do
      assert.is_nil(seen[started.id])
      seen[started.id] = true
    end
    -- and each engine answers for its own ids only
    assert.are.equal("SUCCEEDED", one:status({ first[1].id })[first[1].id].state)
    assert.are.same({ state = "FAILED", reason = lost(first[1].id), data_scanned_in_bytes = 0,
                      execution_time_ms = 0 }, two:status({ first[1].id })[first[1].id])
  end)

  it("are the same for the same token, in one process and in another", function()
    local engine = new_engine()
    local first = engine:start({ { name = "q", sql = "SELECT 1", token = "t-1" } })
    local again = engine:start({ { name = "q", sql = "SELECT 1", token = "t-1" } })
    assert.are.equal(first[1].id, again[1].id)
    -- a start retried in a new process (the first one died before returning) runs it afresh
    local other = new_engine()
    local retried = other:start({ { name = "q", sql = "SELECT n FROM numbers ORDER BY n",
                                    token = "t-1" } })
    assert.are.equal(first[1].id, retried[1].id)
    assert.are.equal("SUCCEEDED", other:status({ retried[1].id })[retried[1].id].state)
    assert.are.same({ { "1" }, { "2" } }, other:results(retried[1].id).rows)
  end)

  it("answer an id issued by another process as FAILED, saying why", function()
    local id = new_engine():start({ { name = "q", sql = "SELECT 1", token = "t-1" } })[1].id
    local engine = new_engine()
    assert.are.same({ [id] = { state = "FAILED", reason = lost(id), data_scanned_in_bytes = 0,
                               execution_time_ms = 0 } }, engine:status({ id }))
    local final = { code = "QUERY_NOT_FOUND", message = lost(id), retryable = false }
    local page, err = engine:results(id, nil, 1000)
    assert.is_nil(page)
    assert.are.same(final, err)
    local stopped, stop_err = engine:stop(id)
    assert.is_nil(stopped)
    assert.are.same(final, stop_err)
    assert.are.equal(lost(id), tostring(stop_err))
  end)

  it("answer an id of the old per-process form (local-000001) as FAILED too", function()
    local engine = new_engine()
    engine:start({ { name = "q", sql = "SELECT 1" } })
    assert.are.same({ state = "FAILED", reason = lost("local-000001"), data_scanned_in_bytes = 0,
                      execution_time_ms = 0 }, engine:status({ "local-000001" })["local-000001"])
  end)

  it("answer an Athena id as FAILED, naming the other engine", function()
    local id = "70e5a4b2-1f4c-4e8e-9d2a-0c6b8f3e1a77"
    assert.are.same({ state = "FAILED", data_scanned_in_bytes = 0, execution_time_ms = 0,
      reason = "QUERY_NOT_FOUND: " .. id .. " is not an execution id of the local engine"
        .. " (was this execution started with --engine athena?)" },
      new_engine():status({ id })[id])
  end)
end)
