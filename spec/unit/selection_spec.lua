-- Which queries a run executes (sq.selection).
local selection = require("sq.selection")

-- A set of queries given as name -> tags, in the order given.
local function set_of(list)
  local set = { list = {}, by_name = {} }
  for _, entry in ipairs(list) do
    local query = { name = entry[1], tags = entry[2] }
    set.list[#set.list + 1] = query
    set.by_name[query.name] = query
  end
  return set
end

local function names(queries)
  local out = {}
  for i, q in ipairs(queries) do
    out[i] = q.name
  end
  return out
end

describe("sq.selection", function()
  local set = set_of({
    { "logins", { "hourly", "auth" } },
    { "denied", { "hourly" } },
    { "iam", { "daily", "auth" } },
    { "keys", { "daily" } },
  })

  it("selects the queries that carry all of a run's tags", function()
    assert.are.same({ "logins", "denied" }, names(selection.select(set, { tags = { "hourly" } })))
    assert.are.same({ "logins" }, names(selection.select(set, { tags = { "auth", "hourly" } })))
    assert.are.same({}, names(selection.select(set, { tags = { "hourly", "daily" } })))
    assert.are.same({}, names(selection.select(set, { tags = { "weekly" } })))
  end)

  it("selects every query when the run has no tags", function()
    assert.are.same({ "logins", "denied", "iam", "keys" }, names(selection.select(set, {})))
    assert.are.same({ "logins", "denied", "iam", "keys" },
      names(selection.select(set, { tags = {} })))
    assert.are.same({ "logins", "denied", "iam", "keys" }, names(selection.select(set)))
  end)

  it("selects by name, in the order of the set", function()
    assert.are.same({ "denied", "keys" },
      names(selection.select(set, { names = { "keys", "denied" } })))
  end)

  it("selects by name and tags together", function()
    assert.are.same({ "iam" },
      names(selection.select(set, { names = { "iam", "denied" }, tags = { "daily" } })))
  end)

  it("rejects a name that is not a query", function()
    assert.are.same({ nil, 'no query is named "logons"' },
      { selection.select(set, { names = { "logins", "logons" } }) })
  end)

  it("finds the queries no pack runs and the packs that run no query", function()
    assert.are.same({ "iam", "keys" }, names(selection.unscheduled(set, { "hourly" })))
    assert.are.same({ "keys" }, names(selection.unscheduled(set, { "auth", "hourly" })))
    assert.are.same({}, names(selection.unscheduled(set, { "hourly", "daily" })))
    assert.are.same({ "two_day", "weekly" },
      selection.empty_packs(set, { "daily", "two_day", "hourly", "weekly" }))
  end)

  it("splits a --tags value on commas, trimming spaces", function()
    assert.are.same({ "hourly", "auth" }, selection.parse_tags("hourly, auth"))
    assert.are.same({ "hourly" }, selection.parse_tags("hourly"))
    assert.are.same({ nil, 'empty tag in "hourly,,auth"' },
      { selection.parse_tags("hourly,,auth") })
    assert.are.same({ nil, 'empty tag in ""' }, { selection.parse_tags("") })
  end)
end)
