-- The state machine player (spec/servers/sfn_driver.js) on definitions of
-- its own, with a tiny function: it must follow Step Functions' rules, and
-- refuse what it does not know rather than guess.
local cjson = require("cjson")
local helper = require("lambda.helper")

local ARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"

-- Plays a definition on an input; returns the report, or nil and the
-- player's error output when it refused to run.
local function play(definition, input, extra)
  local dir = helper.tmpdir()
  local command = table.concat({ "node", helper.quote(helper.servers .. "/sfn_driver.js"),
    "--definition", helper.quote(helper.json_file(dir, "definition.json", definition)),
    "--input", helper.quote(helper.json_file(dir, "input.json", input)),
    "--function-arn", ARN, "--execution-name", "e1", extra or "", "--",
    "lua5.4", helper.quote(helper.root .. "/spec/lambda/echo_function.lua") }, " ")
  local output, ok = helper.run(command .. " 2>" .. helper.quote(dir .. "/err"))
  local err = helper.read(dir .. "/err")
  helper.cleanup(dir)
  if not ok then
    return nil, err
  end
  return cjson.decode(output)
end

local EXECUTION_ID = "arn:aws:states:us-east-1:123456789012:execution:streamquery:e1"

describe("sfn_driver.js", function()
  it("applies Pass, Parameters with the context object, ResultPath and OutputPath", function()
    local report = assert(play({
      StartAt = "Prepare",
      States = {
        Prepare = { Type = "Pass", Parameters = { ["id.$"] = "$$.Execution.Id", fixed = 1,
          ["copy.$"] = "$.a" }, ResultPath = "$.prepared", Next = "Call" },
        Call = { Type = "Task", Resource = ARN, InputPath = "$.prepared",
          ResultPath = "$.called", OutputPath = "$.called", Next = "Check" },
        Check = { Type = "Choice", Default = "Bad", Choices = { { And = {
          { Variable = "$.n", NumericEquals = 1 },
          { Variable = "$.seen.fixed", NumericEquals = 1 } }, Next = "Good" } } },
        Good = { Type = "Succeed" },
        Bad = { Type = "Fail", Error = "Bad", Cause = "no match" },
      },
    }, { a = "x" }))
    assert.are.equal("SUCCEEDED", report.status)
    assert.are.same({ n = 1, seen = { id = EXECUTION_ID, fixed = 1, copy = "x" } }, report.output)
    assert.are.equal(1, report.invocations)
  end)

  it("retries an error the Retry names, with backoff, then catches it into the state", function()
    local report = assert(play({
      StartAt = "Call",
      States = {
        Call = { Type = "Task", Resource = ARN, Next = "Done",
          Retry = { { ErrorEquals = { "Boom" }, IntervalSeconds = 3, MaxAttempts = 2,
            BackoffRate = 1.5 } },
          Catch = { { ErrorEquals = { "States.ALL" }, ResultPath = "$.error", Next = "Failed" } } },
        Done = { Type = "Succeed" },
        Failed = { Type = "Fail", ErrorPath = "$.error.Error", CausePath = "$.error.Cause" },
      },
    }, { fail_with = "Boom" }))
    assert.are.equal("FAILED", report.status)
    assert.are.equal("Boom", report.error)
    assert.are.same({ errorType = "Boom", errorMessage = "failure 3" }, cjson.decode(report.cause))
    assert.are.same({ "Boom", "Boom", "Boom" }, report.history[1].errors)
    assert.are.equal(3 + 4.5, report.waited_secs)
  end)

  it("succeeds once a retried error stops", function()
    local report = assert(play({
      StartAt = "Call",
      States = { Call = { Type = "Task", Resource = ARN, End = true,
        Retry = { { ErrorEquals = { "States.ALL" }, MaxAttempts = 1 } } } },
    }, { fail_with = "Boom", fail_times = 1 }))
    assert.are.equal("SUCCEEDED", report.status)
    assert.are.equal(2, report.output.n)
  end)

  it("times the execution out past TimeoutSeconds", function()
    local report = assert(play({
      StartAt = "Call", TimeoutSeconds = 100,
      States = {
        Call = { Type = "Task", Resource = ARN, Next = "Wait" },
        Wait = { Type = "Wait", Seconds = 60, Next = "Call" },
      },
    }, {}))
    assert.are.equal("TIMED_OUT", report.status)
    assert.are.equal("States.Timeout", report.error)
    assert.are.equal(2, report.invocations)
  end)

  it("refuses a field, a state type or a resource it does not know", function()
    local _, err = play({ StartAt = "A", States = { A = { Type = "Pass", End = true,
      ResultSelector = {} } } }, {})
    assert.are.equal("sfn_driver.js: state A: unknown field ResultSelector\n", err)
    _, err = play({ StartAt = "A", States = { A = { Type = "Map", End = true } } }, {})
    assert.are.equal("sfn_driver.js: state A: unsupported Type Map\n", err)
    _, err = play({ StartAt = "A", States = { A = { Type = "Task", Resource = "arn:other",
      End = true } } }, {})
    assert.are.equal("sfn_driver.js: state A: Resource arn:other is not the function " .. ARN
      .. "\n", err)
    _, err = play({ StartAt = "A", Version = "1.0", Extra = 1,
      States = { A = { Type = "Succeed" } } }, {})
    assert.are.equal("sfn_driver.js: the definition: unknown field Extra\n", err)
  end)
end)
