-- sq.aws calls with the raw option: the body of a successful answer comes back as its text, for
-- a caller that reads it its own way (the Athena engine's result pages); errors are decoded and
-- retried as for any call.
local cjson = require("cjson")
local aws = require("sq.aws")
local servers = require("support.servers")
local support = require("aws.support")

local TARGET, BODY = support.TARGET, support.BODY

-- A client of 'server' that never waits between attempts.
local function client_of(server)
  return aws.new{ env = support.env_with_keys(server), sleep = function() end,
                  random = function() return 0.5 end }
end

describe("sq.aws raw calls", function()
  local server

  setup(function()
    server = servers.start({})
  end)

  teardown(function()
    server:stop()
  end)

  before_each(function()
    server:reset()
  end)

  it("return the body's text, which decodes to the decoded answer", function()
    local client <close> = client_of(server)
    local text, err = client:call("athena", TARGET, BODY, { raw = true })
    assert.is_nil(err)
    assert.are.equal("string", type(text))
    assert.are.equal('{"QueryExecutions":[],"UnprocessedQueryExecutionIds":[{', text:sub(1, 55))
    assert.are.same(client:call("athena", TARGET, BODY), cjson.decode(text))
  end)

  it("decode an error answer as any call does", function()
    server:faults({ { target = TARGET, action = "status", status = 400,
                      code = "ValidationException" } })
    local client <close> = client_of(server)
    local text, err = client:call("athena", TARGET, BODY, { raw = true })
    assert.is_nil(text)
    assert.are.equal("ValidationException", err.code)
    assert.are.equal(400, err.status)
    assert.are.equal(false, err.retryable)
  end)

  it("retry a throttled call and return the text of the answer that came", function()
    server:faults({ { target = TARGET, action = "throttle", times = 1 } })
    local client <close> = client_of(server)
    local text, err = client:call("athena", TARGET, BODY, { raw = true })
    assert.is_nil(err)
    assert.are.equal("no-such-query",
      cjson.decode(text).UnprocessedQueryExecutionIds[1].QueryExecutionId)
    assert.are.equal(2, server:stats().requests)
  end)

  it("answer each call of a batch its own way", function()
    local client <close> = client_of(server)
    local answers = client:batch{
      { service = "athena", target = TARGET, body = BODY, raw = true },
      { service = "athena", target = TARGET, body = BODY },
    }
    assert.are.equal("string", type(answers[1].response))
    assert.are.same(answers[2].response, cjson.decode(answers[1].response))
  end)

  it("give a blank body as an empty object's text", function()
    local env = support.env(nil, { AWS_ENDPOINT_URL = "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID = support.ACCESS_KEY, AWS_SECRET_ACCESS_KEY = support.SECRET })
    local client <close> = aws.new{ env = env }
    client.http = { -- nothing is sent: every request gets a blank 200
      perform = function(_, requests)
        local answers = {}
        for i = 1, #requests do
          answers[i] = { status = 200, body = " \n", headers = {} }
        end
        return answers
      end,
      close = function() end,
    }
    assert.are.equal("{}", client:call("athena", TARGET, BODY, { raw = true }))
    assert.are.same({}, client:call("athena", TARGET, BODY))
  end)
end)
