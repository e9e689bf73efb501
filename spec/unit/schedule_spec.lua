-- EventBridge schedule expressions (sq.schedule).
local schedule = require("sq.schedule")

local FIELDS = "(minutes hours day-of-month month day-of-week year)"

-- Asserts that expr is refused with exactly message.
local function refuses(expr, message)
  local ok, err = schedule.validate(expr)
  assert.is_nil(ok, expr)
  assert.are.equal(message, err)
end

describe("schedule.validate", function()
  describe("with rate()", function()
    it("accepts a value of 1 with a singular unit and more than 1 with a plural unit", function()
      for _, expr in ipairs({ "rate(1 minute)", "rate(1 hour)", "rate(1 day)", "rate(5 minutes)",
                              "rate(2 hours)", "rate(24 hours)", "rate(2 days)",
                              "rate(10 minutes)", "rate(100 days)" }) do
        assert.are.same({ true }, { schedule.validate(expr) }, expr)
      end
    end)

    it("asks for the singular unit when the value is 1", function()
      refuses("rate(1 hours)", "rate(1 hours): use the singular unit for 1: rate(1 hour)")
      refuses("rate(1 minutes)", "rate(1 minutes): use the singular unit for 1: rate(1 minute)")
      refuses("rate(1 days)", "rate(1 days): use the singular unit for 1: rate(1 day)")
    end)

    it("asks for the plural unit when the value is more than 1", function()
      refuses("rate(2 hour)", "rate(2 hour): use the plural unit for 2: rate(2 hours)")
      refuses("rate(15 minute)", "rate(15 minute): use the plural unit for 15: rate(15 minutes)")
      refuses("rate(7 day)", "rate(7 day): use the plural unit for 7: rate(7 days)")
    end)

    it("refuses zero, signs, fractions, words and leading zeros in the value", function()
      refuses("rate(0 minutes)", "rate(0 minutes): the value must be a positive integer, got 0")
      refuses("rate(00 hours)", "rate(00 hours): the value must be a positive integer, got 00")
      refuses("rate(-1 minutes)",
        "rate(-1 minutes): the value must be a positive integer without a sign, got -1")
      refuses("rate(+5 minutes)",
        "rate(+5 minutes): the value must be a positive integer without a sign, got +5")
      refuses("rate(1.5 hours)", "rate(1.5 hours): the value must be a positive integer, got 1.5")
      refuses("rate(one hour)", "rate(one hour): the value must be a positive integer, got one")
      refuses("rate(05 minutes)",
        "rate(05 minutes): the value must not start with 0: rate(5 minutes)")
      refuses("rate(01 hour)", "rate(01 hour): the value must not start with 0: rate(1 hour)")
    end)

    it("refuses units other than minute(s), hour(s) and day(s)", function()
      refuses("rate(1 week)", 'rate(1 week): unknown unit "week": use minute(s), hour(s) or day(s)')
      refuses("rate(30 seconds)",
        'rate(30 seconds): unknown unit "seconds": use minute(s), hour(s) or day(s)')
      refuses("rate(1 Hour)", "rate(1 Hour): the unit must be lower case: rate(1 hour)")
      refuses("rate(2 HOURS)", "rate(2 HOURS): the unit must be lower case: rate(2 hours)")
    end)

    it("wants exactly a value, one space and a unit", function()
      local usage = ": expected rate(value unit) with one space between them,"
        .. " for example rate(5 minutes)"
      refuses("rate()", "rate()" .. usage)
      refuses("rate(hour)", "rate(hour)" .. usage)
      refuses("rate(5)", "rate(5)" .. usage)
      refuses("rate(1  hour)", "rate(1  hour)" .. usage)
      refuses("rate( 1 hour)", "rate( 1 hour)" .. usage)
      refuses("rate(1 hour later)", "rate(1 hour later)" .. usage)
    end)
  end)

  describe("with cron()", function()
    it("accepts six fields with ? in day-of-month or day-of-week", function()
      for _, expr in ipairs({
        "cron(1 * * * ? *)",              -- one minute past every hour
        "cron(5 0 * * ? *)",              -- 00:05 every day
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",           -- a step from a start value
        "cron(*/10 * ? * MON-FRI *)",     -- a step over the whole field
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0-30/10 * * * ? *)",        -- a step over a range
        "cron(0 9 ? * 2-6 2024-2030)",
        "cron(0 0 1,15 JAN,JUL ? *)",     -- lists, month names
        "cron(0 0 1 1-3,10-12 ? 2025)",
        "cron(0 22 ? * SAT-SUN *)",       -- a range that wraps around the week
        "cron(0 0 ? * 1,7 *)",
        "cron(0 0 * jan ? *)",            -- names in any case
        "cron(0 0 ? * fri *)",
        "cron(0 0 1/7 * ? *)",
        "cron(0 0 * */3 ? *)",
        "cron(0 0 1 1 ? 2020/2)",
        "cron(00 05 * * ? *)",
        "cron(0 0 1 * ? 1970,2199)",
      }) do
        assert.are.same({ true }, { schedule.validate(expr) }, expr)
      end
    end)

    it("accepts L, LW and nW in day-of-month", function()
      for _, expr in ipairs({ "cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 15W * ? *)",
                              "cron(0 0 1W * ? *)", "cron(0 0 31W * ? *)",
                              "cron(0 0 lw * ? *)" }) do
        assert.are.same({ true }, { schedule.validate(expr) }, expr)
      end
    end)

    it("accepts L, nL and n#k in day-of-week, with numbers or names", function()
      for _, expr in ipairs({ "cron(0 0 ? * L *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * FRIL *)",
                              "cron(0 0 ? * 3#2 *)", "cron(0 0 ? * MON#1 *)",
                              "cron(0 0 ? * 7#5 *)" }) do
        assert.are.same({ true }, { schedule.validate(expr) }, expr)
      end
    end)

    it("refuses the reference document's five-field cron(1 * * * *), suggesting six fields",
      function()
        refuses("cron(1 * * * *)", "cron(1 * * * *) has 5 fields; EventBridge needs 6 " .. FIELDS
          .. ": did you mean cron(1 * * * ? *)?")
      end)

    it("suggests EventBridge's day numbers for a five-field expression with week days", function()
      refuses("cron(0 9 * * 1-5)", "cron(0 9 * * 1-5) has 5 fields; EventBridge needs 6 " .. FIELDS
        .. ": did you mean cron(0 9 ? * 2-6 *)?")
      refuses("cron(30 6 * * 0)", "cron(30 6 * * 0) has 5 fields; EventBridge needs 6 " .. FIELDS
        .. ": did you mean cron(30 6 ? * 1 *)?")
      refuses("cron(0 0 1 * *)", "cron(0 0 1 * *) has 5 fields; EventBridge needs 6 " .. FIELDS
        .. ": did you mean cron(0 0 1 * ? *)?")
    end)

    it("suggests nothing for a five-field expression that sets both day fields", function()
      refuses("cron(0 0 1 * 1)", "cron(0 0 1 * 1) has 5 fields; EventBridge needs 6 " .. FIELDS)
    end)

    it("suggests dropping the seconds of a seven-field Quartz expression", function()
      refuses("cron(0 0 12 * * ? *)", "cron(0 0 12 * * ? *) has 7 fields; EventBridge needs 6 "
        .. FIELDS .. ": did you mean cron(0 12 * * ? *)?")
    end)

    it("counts the fields of other wrong lengths", function()
      refuses("cron()", "cron() has 0 fields; EventBridge needs 6 " .. FIELDS)
      refuses("cron(5)", "cron(5) has 1 field; EventBridge needs 6 " .. FIELDS)
      refuses("cron(1 2 3 4 5 6 7 8)", "cron(1 2 3 4 5 6 7 8) has 8 fields; EventBridge needs 6 "
        .. FIELDS)
    end)

    it("wants exactly one of day-of-month and day-of-week to be ?", function()
      refuses("cron(0 0 * * * *)", "cron(0 0 * * * *): one of day-of-month and day-of-week must be"
        .. " ? (EventBridge cannot combine a day of the month with a day of the week):"
        .. " did you mean cron(0 0 * * ? *)?")
      refuses("cron(0 0 * * MON *)", "cron(0 0 * * MON *): one of day-of-month and day-of-week"
        .. " must be ? (EventBridge cannot combine a day of the month with a day of the week):"
        .. " did you mean cron(0 0 ? * MON *)?")
      refuses("cron(0 0 1 * MON *)", "cron(0 0 1 * MON *): one of day-of-month and day-of-week"
        .. " must be ? (EventBridge cannot combine a day of the month with a day of the week)")
      refuses("cron(0 0 ? * ? *)", "cron(0 0 ? * ? *): day-of-month and day-of-week are both ?:"
        .. " one of them must be a value or *: did you mean cron(0 0 * * ? *)?")
    end)

    it("names the field and the value that is out of range", function()
      refuses("cron(60 * * * ? *)", 'cron(60 * * * ? *): minutes "60": 60 is out of range 0-59')
      refuses("cron(0 24 * * ? *)", 'cron(0 24 * * ? *): hours "24": 24 is out of range 0-23')
      refuses("cron(0 0 0 * ? *)", 'cron(0 0 0 * ? *): day-of-month "0": 0 is out of range 1-31')
      refuses("cron(0 0 32 * ? *)",
        'cron(0 0 32 * ? *): day-of-month "32": 32 is out of range 1-31')
      refuses("cron(0 0 1 13 ? *)",
        'cron(0 0 1 13 ? *): month "13": 13 is out of range 1-12 or JAN-DEC')
      refuses("cron(0 0 ? * 0 *)",
        'cron(0 0 ? * 0 *): day-of-week "0": 0 is out of range 1-7 or SUN-SAT')
      refuses("cron(0 0 ? * 8 *)",
        'cron(0 0 ? * 8 *): day-of-week "8": 8 is out of range 1-7 or SUN-SAT')
      refuses("cron(0 0 * * ? 1969)", 'cron(0 0 * * ? 1969): year "1969": 1969 is out of range'
        .. " 1970-2199")
      refuses("cron(0 0 * * ? 2200)", 'cron(0 0 * * ? 2200): year "2200": 2200 is out of range'
        .. " 1970-2199")
      refuses("cron(0-60 * * * ? *)", 'cron(0-60 * * * ? *): minutes "0-60": 60 is out of range'
        .. " 0-59")
      refuses("cron(1,2,99 * * * ? *)",
        'cron(1,2,99 * * * ? *): minutes "1,2,99": 99 is out of range 0-59')
    end)

    it("refuses unknown month and day names", function()
      refuses("cron(0 0 1 JANUARY ? *)",
        'cron(0 0 1 JANUARY ? *): month "JANUARY": JANUARY is not a month name:'
        .. " use 1-12 or JAN-DEC")
      refuses("cron(0 0 1 january ? *)",
        'cron(0 0 1 january ? *): month "january": january is not a month name:'
        .. " use 1-12 or JAN-DEC")
      refuses("cron(0 0 ? * MONDAY *)",
        'cron(0 0 ? * MONDAY *): day-of-week "MONDAY": MONDAY is not a day name:'
        .. " use 1-7 or SUN-SAT")
      refuses("cron(0 0 ? * lol *)",
        'cron(0 0 ? * lol *): day-of-week "lol": lol is not a day name: use 1-7 or SUN-SAT')
      refuses("cron(0 0 MON * ? *)", 'cron(0 0 MON * ? *): day-of-month "MON": MON is a name;'
        .. " names are only allowed in month (JAN-DEC) and day-of-week (SUN-SAT)")
      refuses("cron(0 JAN * * ? *)", 'cron(0 JAN * * ? *): hours "JAN": JAN is a name;'
        .. " names are only allowed in month (JAN-DEC) and day-of-week (SUN-SAT)")
    end)

    it("checks steps: a whole number within the field, and none in day-of-week", function()
      refuses("cron(*/0 * * * ? *)", 'cron(*/0 * * * ? *): minutes "*/0": the step after / must be'
        .. " a whole number 1-59, got 0")
      refuses("cron(0/60 * * * ? *)", 'cron(0/60 * * * ? *): minutes "0/60": the step after / must'
        .. " be a whole number 1-59, got 60")
      refuses("cron(0 0/24 * * ? *)", 'cron(0 0/24 * * ? *): hours "0/24": the step after / must'
        .. " be a whole number 1-23, got 24")
      refuses("cron(0/ * * * ? *)", 'cron(0/ * * * ? *): minutes "0/": the step after / must be'
        .. " a whole number 1-59, got nothing")
      refuses("cron(0/x * * * ? *)", 'cron(0/x * * * ? *): minutes "0/x": the step after / must be'
        .. " a whole number 1-59, got x")
      refuses("cron(0 0 ? * */2 *)", 'cron(0 0 ? * */2 *): day-of-week "*/2": a step (/) is not'
        .. " allowed in day-of-week")
      refuses("cron(0 0 ? * 1/2 *)", 'cron(0 0 ? * 1/2 *): day-of-week "1/2": a step (/) is not'
        .. " allowed in day-of-week")
    end)

    it("refuses empty list items, backwards year ranges and unreadable values", function()
      refuses("cron(1,,2 0 * * ? *)",
        'cron(1,,2 0 * * ? *): minutes "1,,2": an item of the list is empty')
      refuses("cron(1, 0 * * ? *)",
        'cron(1, 0 * * ? *): minutes "1,": an item of the list is empty')
      refuses("cron(0 0 * * ? 2030-2020)",
        'cron(0 0 * * ? 2030-2020): year "2030-2020": the range 2030-2020 runs backwards')
      refuses("cron(-5 * * * ? *)", 'cron(-5 * * * ? *): minutes "-5": expected *, a value 0-59,'
        .. " a range a-b, a list a,b or a step a/b")
      refuses("cron(1-2-3 * * * ? *)", 'cron(1-2-3 * * * ? *): minutes "1-2-3": expected *,'
        .. " a value 0-59, a range a-b, a list a,b or a step a/b")
      refuses("cron(0 0 ? * 1-2-3 *)", 'cron(0 0 ? * 1-2-3 *): day-of-week "1-2-3": expected *,'
        .. " a value 1-7 or SUN-SAT, a range a-b or a list a,b")
    end)

    it("allows ? only in day-of-month and day-of-week, and only on its own", function()
      refuses("cron(? 0 * * ? *)", 'cron(? 0 * * ? *): minutes "?": ? is only allowed in'
        .. " day-of-month and day-of-week")
      refuses("cron(0 0 * * MON ?)", 'cron(0 0 * * MON ?): year "?": ? is only allowed in'
        .. " day-of-month and day-of-week")
      refuses("cron(0 0 ?,1 * ? *)", 'cron(0 0 ?,1 * ? *): day-of-month "?,1": ? stands alone:'
        .. " it cannot be part of a list, range or step")
      refuses("cron(0 0 ?/2 * ? *)", 'cron(0 0 ?/2 * ? *): day-of-month "?/2": ? stands alone:'
        .. " it cannot be part of a list, range or step")
    end)

    it("allows L and W in day-of-month only on their own", function()
      refuses("cron(0 0 32W * ? *)", 'cron(0 0 32W * ? *): day-of-month "32W": 32 is out of range'
        .. " 1-31")
      refuses("cron(0 0 0W * ? *)", 'cron(0 0 0W * ? *): day-of-month "0W": 0 is out of range'
        .. " 1-31")
      refuses("cron(0 0 L,15 * ? *)", 'cron(0 0 L,15 * ? *): day-of-month "L,15": L stands alone'
        .. " (or as LW): it cannot be part of a list, range or step")
      refuses("cron(0 0 L-3 * ? *)", 'cron(0 0 L-3 * ? *): day-of-month "L-3": L stands alone'
        .. " (or as LW): it cannot be part of a list, range or step")
      refuses("cron(0 0 W * ? *)", 'cron(0 0 W * ? *): day-of-month "W": W goes after a single'
        .. " day, as in 15W, or in LW: it cannot be part of a list, range or step")
      refuses("cron(0 0 1W,15W * ? *)", 'cron(0 0 1W,15W * ? *): day-of-month "1W,15W": W goes'
        .. " after a single day, as in 15W, or in LW: it cannot be part of a list, range or step")
    end)

    it("allows L and # in day-of-week only on their own", function()
      refuses("cron(0 0 ? * MON,L *)", 'cron(0 0 ? * MON,L *): day-of-week "MON,L": L stands alone'
        .. " or after a single day, as in 6L: it cannot be part of a list, range or step")
      refuses("cron(0 0 ? * 8L *)", 'cron(0 0 ? * 8L *): day-of-week "8L": 8 is out of range 1-7'
        .. " or SUN-SAT")
      refuses("cron(0 0 ? * 3#6 *)", 'cron(0 0 ? * 3#6 *): day-of-week "3#6": the occurrence'
        .. " after # must be 1-5, got 6")
      refuses("cron(0 0 ? * 3# *)", 'cron(0 0 ? * 3# *): day-of-week "3#": the occurrence'
        .. " after # must be 1-5, got nothing")
      refuses("cron(0 0 ? * #2 *)", 'cron(0 0 ? * #2 *): day-of-week "#2": expected a day 1-7'
        .. " or SUN-SAT before #")
      refuses("cron(0 0 ? * 0#1 *)", 'cron(0 0 ? * 0#1 *): day-of-week "0#1": 0 is out of range'
        .. " 1-7 or SUN-SAT")
      refuses("cron(0 0 ? * 3#1,6#3 *)", 'cron(0 0 ? * 3#1,6#3 *): day-of-week "3#1,6#3":'
        .. " # allows a single expression in day-of-week, not a list")
    end)

    it("allows L, W and # nowhere else", function()
      refuses("cron(L 0 * * ? *)", 'cron(L 0 * * ? *): minutes "L": L is only allowed in'
        .. " day-of-month and day-of-week")
      refuses("cron(0 0 * 5W ? *)", 'cron(0 0 * 5W ? *): month "5W": W is only allowed in'
        .. " day-of-month")
      refuses("cron(0 0 ? * 5W *)", 'cron(0 0 ? * 5W *): day-of-week "5W": W is only allowed in'
        .. " day-of-month")
      refuses("cron(0 0 1#2 * ? *)", 'cron(0 0 1#2 * ? *): day-of-month "1#2": # is only allowed'
        .. " in day-of-week")
    end)
  end)

  describe("with anything else", function()
    it("names the two kinds of expression", function()
      refuses("every hour", '"every hour" is not an EventBridge schedule expression: use'
        .. " rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")
      refuses("", '"" is not an EventBridge schedule expression: use'
        .. " rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")
      refuses("at(2020-01-01T00:00:00)", '"at(2020-01-01T00:00:00)" is not an EventBridge'
        .. " schedule expression: use rate(value unit) or cron(minutes hours day-of-month month"
        .. " day-of-week year)")
    end)

    it("points at white space, capitals and a missing parenthesis", function()
      refuses(" rate(1 hour)", '" rate(1 hour)": remove the white space around the expression')
      refuses("rate(1 hour)\n", '"rate(1 hour)\n": remove the white space around the expression')
      refuses("Rate(1 hour)", 'Rate(1 hour): write "rate" in lower case')
      refuses("CRON(1 * * * ? *)", 'CRON(1 * * * ? *): write "cron" in lower case')
      refuses("rate(1 hour", "rate(1 hour: the closing parenthesis is missing")
    end)

    it("refuses what is not a string", function()
      refuses(nil, "a schedule expression must be a string such as rate(1 hour), got nil")
      refuses(60, "a schedule expression must be a string such as rate(1 hour), got number")
    end)
  end)
end)
