-- Every Athena construct of the issue's list, translated and run by the local engine over
-- spec/sql/fixtures: the exact SQLite text and the exact rows (spec/sql/cases.lua).
local support = require("sql.support")
local cases = require("sql.cases")

describe("Athena SQL on the local engine", function()
  local engine

  setup(function()
    engine = support.engine(support.ROOT .. "/spec/sql/fixtures")
  end)

  teardown(function()
    engine:close()
  end)

  for _, case in ipairs(cases) do
    it(case.it, function()
      local result = support.run(engine, case.sql)
      assert.are.equal("SUCCEEDED", result.state, result.reason)
      assert.are.equal(case.translated, result.sql)
      assert.are.same(case.rows, result.rows)
    end)
  end
end)
