-- SQL templates (sq.template): {placeholders}, {{ and }} for literal braces.
local template = require("sq.template")

describe("sq.template", function()
  it("replaces placeholders with their values", function()
    assert.are.equal("SELECT * FROM t WHERE dt = '2020-02-13-21' AND n > 5",
      template.render("SELECT * FROM t WHERE dt = '{dt}' AND n > {n}", { dt = "2020-02-13-21",
        n = "5" }))
  end)

  it("replaces a placeholder used twice both times", function()
    assert.are.equal("dt BETWEEN 'a' AND 'a'", template.render("dt BETWEEN '{x}' AND '{x}'",
      { x = "a" }))
  end)

  it("writes {{ and }} as literal braces", function()
    assert.are.equal([[SELECT '{"a": 1}', regexp_like(x, '^a{2}$')]],
      template.render([[SELECT '{{"a": {n}}}', regexp_like(x, '^a{{2}}$')]], { n = "1" }))
  end)

  it("leaves text without braces alone, new lines included", function()
    local sql = "SELECT 1\nFROM t\n"
    assert.are.equal(sql, template.render(sql, {}))
  end)

  it("does not expand braces inside a value", function()
    assert.are.equal("x = '{dt}'", template.render("x = '{v}'", { v = "{dt}", dt = "no" }))
  end)

  it("lists the placeholders once each, in order of first use", function()
    assert.are.same({ "b", "a", "c_1" },
      template.placeholders("{b} {a} {{literal}} {b} {c_1}"))
    assert.are.same({}, template.placeholders("SELECT 1"))
  end)

  it("rejects a placeholder with no value, naming it", function()
    assert.are.same({ nil, "placeholder {since} has no value" },
      { template.render("WHERE t > '{since}'", { dt = "x" }) })
  end)

  it("rejects a lone closing brace, with its line and column", function()
    assert.are.same({ nil, "line 2, column 7 of the query: a lone '}'; write }} for a literal "
      .. "brace" }, { template.render("SELECT 1\nWHERE }", {}) })
  end)

  it("rejects an opening brace that is never closed", function()
    assert.are.same({ nil, "line 1, column 8 of the query: '{' is never closed; write {{ for a "
      .. "literal brace" }, { template.placeholders("SELECT {dt") })
  end)

  it("rejects braces around something that is not a parameter name", function()
    assert.are.same({ nil, "line 1, column 11 of the query: {dt - 1} is not a parameter name; "
      .. "write {{ for a literal brace" }, { template.render("WHERE x = {dt - 1}", { dt = "1" }) })
    assert.are.same({ nil, "line 1, column 1 of the query: {} is not a parameter name; write {{ "
      .. "for a literal brace" }, { template.placeholders("{}") })
  end)

  it("fills {datehour...} placeholders from the utcdatehour... values", function()
    assert.are.equal("dt = '2020-02-13-21'", template.render("dt = '{datehour_minus1hour}'",
      { utcdatehour_minus1hour = "2020-02-13-21" }))
    assert.are.equal("dt = 'own'", template.render("dt = '{datehour}'",
      { datehour = "own", utcdatehour = "builtin" }))
  end)

  it("says the query must be a string", function()
    assert.are.same({ nil, "the query must be a string, got nil" }, { template.render(nil, {}) })
  end)
end)
