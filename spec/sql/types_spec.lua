-- Athena's types in the local engine: declared type strings, and values rendered as
-- Athena's GetQueryResults renders them.
local cjson = require("cjson")
local types = require("sq.sql.types")

local NULL = cjson.null

local function parse(text)
  return assert(types.parse(text))
end

describe("sq.sql.types", function()
  it("parses DDL type strings, nested, in any case", function()
    assert.are.equal("array(row(arn varchar, type varchar))",
      types.name(parse("ARRAY<STRUCT<arn:string, type:string>>")))
    assert.are.equal("map(varchar, array(bigint))", types.name(parse("map<string,array<int>>")))
    assert.are.equal("row(a double, b timestamp(3), c date, d boolean)",
      types.name(parse("row(a decimal(10,2), b timestamp, c date, d boolean)")))
    assert.are.equal("varchar", types.name(parse("varchar(255)")))
  end)

  it("says what is wrong with a type string", function()
    assert.same({ nil, 'invalid type "map<string>": expected , at position 11' },
      { types.parse("map<string>") })
    assert.same({ nil, 'invalid type "struct<a:blob>": unknown type "blob"' },
      { types.parse("struct<a:blob>") })
  end)

  it("renders scalars as Athena does", function()
    assert.are.equal("42", types.render(42, types.BIGINT, NULL))
    assert.are.equal("2.5", types.render(2.5, types.DOUBLE, NULL))
    assert.are.equal("1.0E10", types.render(1e10, types.DOUBLE, NULL))
    assert.are.equal("1.0E-4", types.render(0.0001, types.DOUBLE, NULL))
    assert.are.equal("100.0", types.render(100, types.DOUBLE, NULL))
    assert.are.equal("true", types.render(1, types.BOOLEAN, NULL))
    assert.are.equal("false", types.render(0, types.BOOLEAN, NULL))
    assert.are.equal("2020-02-13 22:06:20.000", types.render("2020-02-13 22:06:20.000",
      types.TIMESTAMP, NULL))
    assert.are.equal("2020-02-13 22:06:20.000 UTC", types.render("2020-02-13 22:06:20.000",
      types.TIMESTAMPTZ, NULL))
    assert.are.equal("1 02:03:04.005", types.render(93784005, types.INTERVAL_DS, NULL))
    assert.are.equal("1-2", types.render(14, types.INTERVAL_YM, NULL))
    assert.are.equal(NULL, types.render(NULL, types.VARCHAR, NULL))
  end)

  it("renders arrays, maps and structs, keeping map order and naming every struct field",
    function()
      assert.are.equal("[a, b, null]", types.render('["a","b",null]', parse("array<string>"), NULL))
      assert.are.equal("{z=1, a=2}", types.render('{"z":1,"a":2}', parse("map<string,bigint>"),
        NULL))
      assert.are.equal("{arn=x, type=null, n=[1.5, 2.0]}", types.render('{"ARN":"x","n":[1.5,2]}',
        parse("struct<arn:string,type:string,n:array<double>>"), NULL))
      assert.are.equal("[{k=true}]", types.render('[{"k":1}]', parse("array<map<string,boolean>>"),
        NULL))
      assert.are.equal('é "q"', types.render('["\\u00e9 \\"q\\""]', parse("array<string>"), NULL)
        :sub(2, -2))
    end)

  it("renders JSON as JSON text", function()
    assert.are.equal('{"a":[1,"x"]}', types.render('{"a":[1,"x"]}', types.JSON, NULL))
  end)
end)
