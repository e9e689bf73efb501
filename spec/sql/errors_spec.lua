-- What the local engine cannot run, or Athena would refuse, is an error that names the
-- construct and its position; never a silently different answer.
local support = require("sql.support")

local function reason(engine, sql)
  local result = support.run(engine, sql)
  assert.are.equal("FAILED", result.state)
  return result.reason
end

describe("errors of the local engine's SQL", function()
  local engine

  setup(function()
    engine = support.engine(support.ROOT .. "/spec/sql/fixtures")
  end)

  teardown(function()
    engine:close()
  end)

  it("names an unsupported construct and its line and column", function()
    assert.are.equal("NOT_SUPPORTED: line 2:10: GROUPING SETS, ROLLUP and CUBE is not supported"
      .. " by the local engine", reason(engine, "SELECT eventname, count(*) FROM cloudtrail\n"
      .. "GROUP BY ROLLUP (eventname)"))
    assert.are.equal("NOT_SUPPORTED: line 1:26: TABLESAMPLE is not supported by the local engine",
      reason(engine, "SELECT * FROM cloudtrail TABLESAMPLE BERNOULLI (10)"))
    assert.are.equal("NOT_SUPPORTED: line 1:8: Function 'levenshtein_distance' is not supported by"
      .. " the local engine", reason(engine, "SELECT levenshtein_distance(eventname, 'x') FROM "
      .. "cloudtrail"))
    assert.are.equal("NOT_SUPPORTED: line 1:37: UNNEST of several arrays at once is not supported"
      .. " by the local engine", reason(engine, "SELECT x, y FROM metrics CROSS JOIN "
      .. "UNNEST(tags, tags) AS t(x, y)"))
    assert.are.equal("NOT_SUPPORTED: line 1:24: AT TIME ZONE other than 'UTC' is not supported by"
      .. " the local engine", reason(engine, "SELECT at AT TIME ZONE 'Europe/Paris' FROM metrics"))
  end)

  it("refuses a DECIMAL it would render differently from Athena", function()
    assert.are.equal("NOT_SUPPORTED: line 1:22: CAST to DECIMAL is not supported by the local "
      .. "engine (use DOUBLE)", reason(engine, "SELECT CAST(ratio AS DECIMAL(10,2)) FROM metrics"))
  end)

  it("refuses a time zone it would render differently from Athena, saying where", function()
    assert.are.equal("NOT_SUPPORTED: line 1:8: a time zone offset other than Z "
      .. "(2020-02-13T21:00:00+01:00) is not supported by the local engine",
      reason(engine, "SELECT from_iso8601_timestamp('2020-02-13T21:00:00+01:00')"))
    assert.are.equal("NOT_SUPPORTED: line 2:3: a time zone offset other than Z "
      .. "(2020-02-13T21:00:00+01:00) is not supported by the local engine",
      reason(engine, "SELECT name,\n  from_iso8601_timestamp(concat('2020-02-13T21:00:00', "
      .. "'+01:00')) FROM metrics"))
  end)

  it("refuses a window frame of an INTERVAL, naming it and where", function()
    assert.are.equal("NOT_SUPPORTED: line 1:49: a window frame bound of an INTERVAL is not "
      .. "supported by the local engine", reason(engine, "SELECT count(*) OVER (ORDER BY at "
      .. "RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW) FROM metrics"))
    assert.are.equal("NOT_SUPPORTED: line 1:40: a window frame bound of an INTERVAL is not "
      .. "supported by the local engine", reason(engine, "SELECT count(*) OVER (ORDER BY at "
      .. "ROWS INTERVAL '1' HOUR PRECEDING) FROM metrics"))
  end)

  it("fails a bigint overflow as Trino does, rather than answering a double", function()
    assert.are.equal("NUMERIC_VALUE_OUT_OF_RANGE: bigint multiplication overflow: "
      .. "9223372036854775807 * 2", reason(engine, "SELECT 9223372036854775807 * 2 AS a"))
    assert.are.equal("NUMERIC_VALUE_OUT_OF_RANGE: bigint addition overflow: "
      .. "7 + 9223372036854775801", reason(engine, "SELECT (value + 9223372036854775801) / 2 "
      .. "FROM metrics WHERE name = 'a'"))
    assert.are.equal("NUMERIC_VALUE_OUT_OF_RANGE: bigint subtraction overflow: "
      .. "-7 - 9223372036854775807", reason(engine, "SELECT value - 9223372036854775807 "
      .. "FROM metrics WHERE name = 'b'"))
    assert.are.equal("NUMERIC_VALUE_OUT_OF_RANGE: bigint division overflow: "
      .. "-9223372036854775808 / -1", reason(engine, "SELECT (-9223372036854775807 - 1) / "
      .. "(value - 8) FROM metrics WHERE name = 'a'"))
    assert.are.equal("NUMERIC_VALUE_OUT_OF_RANGE: bigint negation overflow: "
      .. "-9223372036854775808", reason(engine, "SELECT -(-9223372036854775807 - 1)"))
  end)

  it("fails a scalar sub-query of several rows, as Trino does", function()
    assert.are.equal("GENERIC_USER_ERROR: Scalar sub-query has returned multiple rows",
      reason(engine, "SELECT (SELECT name FROM metrics) AS n"))
  end)

  it("refuses doubles that would be NaN, which SQLite cannot hold", function()
    assert.are.equal("NOT_SUPPORTED: line 1:24: a NaN result (0.0 / 0.0) is not supported by "
      .. "the local engine", reason(engine, "SELECT (ratio - ratio) / (ratio - ratio) FROM metrics "
      .. "WHERE name = 'a'"))
    assert.are.equal("NOT_SUPPORTED: line 1:8: a NaN result (sqrt(-1.0)) is not supported by "
      .. "the local engine", reason(engine, "SELECT sqrt(-1)"))
    assert.are.equal("NOT_SUPPORTED: line 1:8: a NaN result (CAST('NaN' AS double)) is not "
      .. "supported by the local engine", reason(engine, "SELECT CAST('NaN' AS double)"))
  end)

  it("refuses regular expressions that POSIX would match differently", function()
    assert.are.equal("NOT_SUPPORTED: line 1:26: regular expression 'a.*?b': lazy and possessive "
      .. "quantifiers is not supported by the local engine",
      reason(engine, "SELECT regexp_like(name, 'a.*?b') FROM metrics"))
    assert.are.equal("NOT_SUPPORTED: regular expression '(?=x)': look-around and inline flags "
      .. "is not supported by the local engine",
      reason(engine, "SELECT regexp_like(name, concat('(?=', 'x)')) FROM metrics"))
  end)

  it("says which column cannot be resolved, and where", function()
    assert.are.equal("SYNTAX_ERROR: line 1:8: Column 'eventnam' cannot be resolved",
      reason(engine, "SELECT eventnam FROM cloudtrail"))
    assert.are.equal("SYNTAX_ERROR: line 1:20: Field 'nope' not found in row(arn varchar, "
      .. "accountid varchar, type varchar)", reason(engine, "SELECT resources[1].nope FROM "
      .. "cloudtrail"))
    assert.are.equal("SYNTAX_ERROR: line 1:8: Expression of type map(varchar, varchar) has no "
      .. "field 'bucketname'; write a subscript: ['bucketname']",
      reason(engine, "SELECT requestparameters.bucketname FROM sa_cloudtrail"))
  end)

  it("refuses what Athena refuses instead of answering", function()
    assert.are.equal("SYNTAX_ERROR: line 1:8: 'eventname' must be an aggregate expression or "
      .. "appear in GROUP BY clause", reason(engine, "SELECT eventname, count(*) FROM cloudtrail "
      .. "GROUP BY eventsource"))
    assert.are.equal("SYNTAX_ERROR: line 1:38: Cannot apply operator: bigint = varchar",
      reason(engine, "SELECT name FROM metrics WHERE value = '7'"))
    assert.are.equal("SYNTAX_ERROR: line 1:8: Column 'dt' is ambiguous",
      reason(engine, "SELECT dt FROM cloudtrail a CROSS JOIN sa_cloudtrail b"))
    assert.are.equal("SYNTAX_ERROR: line 1:10: unexpected 'form' after the end of the query",
      reason(engine, "SELECT * FORM cloudtrail"))
  end)

  it("refuses an ORDER BY of SELECT DISTINCT that is not selected", function()
    assert.are.equal("SYNTAX_ERROR: line 1:52: For SELECT DISTINCT, ORDER BY expressions must "
      .. "appear in select list", reason(engine, "SELECT DISTINCT eventname FROM cloudtrail ORDER "
      .. "BY eventtime"))
  end)

  it("stops at run time where Athena would (division by zero, bad casts)", function()
    assert.are.equal("GENERIC_USER_ERROR: Division by zero",
      reason(engine, "SELECT value / (value - value) FROM metrics"))
    assert.are.equal("GENERIC_USER_ERROR: Cannot cast 'a' to BIGINT",
      reason(engine, "SELECT CAST(name AS BIGINT) FROM metrics"))
    assert.are.equal('GENERIC_USER_ERROR: Invalid format: "2020-02-13 21:05:00"',
      reason(engine, "SELECT from_iso8601_timestamp('2020-02-13 21:05:00')"))
    assert.are.equal("GENERIC_USER_ERROR: Value cannot be cast to timestamp: 2020-02-13T20:15:00Z",
      reason(engine, "SELECT CAST(eventtime AS TIMESTAMP) FROM cloudtrail"))
  end)
end)
