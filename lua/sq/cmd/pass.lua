-- bin/host pass [EVENT_FILE]: one invocation on the command line. Reads a
-- Step Functions event (a file, or standard input), runs one pass and
-- prints the response JSON on standard output.
local args = require("sq.args")
local cjson = require("cjson")
local run = require("sq.cmd.run")
local runner = require("sq.runner")

local pass = {}

pass.spec = {
  command = "pass",
  positional = "[EVENT_FILE]",
  summary = "Run one pass over the event in EVENT_FILE (standard input when absent or -) and\n"
    .. "print the response, the next state machine input, on standard output.",
  options = {
    runner.OPTIONS.budget, runner.OPTIONS.engine, runner.OPTIONS.data,
    { name = "sink", value = "SINK", help = "kinesis (default), file:PATH or count; not stdout, "
      .. "which carries the response" },
    { name = "config", value = "PATH", help = "configuration file "
      .. "(default: conf/scheduled_queries.json)" },
    { name = "queries", value = "DIR", help = "query definitions (default: scheduled_queries)" },
  },
  notes = {
    "Exit status: 0 the pass went well; 1 a query failed or records could not be delivered;",
    "2 usage error, invalid event, configuration or query files. When a pass stops on an",
    "error (a missing Kinesis stream, say), the state it reached is still printed.",
  },
}

-- Reads and decodes the event; returns it or nil, message.
local function read_event(path)
  local text, err
  if path == nil or path == "-" then
    path, text = "standard input", io.stdin:read("a")
  else
    local file
    file, err = io.open(path, "rb")
    if not file then
      return nil, "cannot read the event: " .. err
    end
    text, err = file:read("a")
    file:close()
    if not text then
      return nil, string.format("cannot read the event %s: %s", path, tostring(err))
    end
  end
  local ok, event = pcall(cjson.decode, text)
  if not ok then
    return nil, string.format("%s: the event is not valid JSON (%s)", path,
      tostring(event):gsub("^.-: ", ""))
  end
  if type(event) ~= "table" then
    return nil, path .. ": the event must be a JSON object"
  end
  return event
end

function pass.run(argv, ctx)
  local opts, err = args.parse(pass.spec, argv)
  if opts and not opts.help then
    if #opts.positional > 1 then
      err, opts = "one EVENT_FILE at most", nil
    elseif opts.sink == "stdout" then
      err, opts = "--sink stdout is not possible: standard output carries the response", nil
    else
      local ok, check_err = runner.check_options(opts)
      if not ok then
        err, opts = check_err, nil
      end
    end
  end
  if opts == nil then
    return args.fail(pass.spec, err)
  end
  if opts.help then
    io.stdout:write(args.help(pass.spec))
    return 0
  end
  local event, event_err = read_event(opts.positional[1])
  opts.tag_list = {}
  local plan, status = run.prepare(opts, ctx)
  if plan == nil then
    return status
  end
  if not event then
    plan.log:error(event_err)
    return 2
  end
  opts.sink = opts.sink or "kinesis"
  local h = runner.handler(plan, opts)
  local deadline = opts.budget and require("host.clock").monotonic() + opts.budget or nil
  local response, summary = runner.invoke(h, event, { deadline = deadline })
  if not response then
    plan.log:error(summary.message)
    if summary.response then -- what the pass did before it stopped is not lost
      io.stdout:write(cjson.encode(summary.response), "\n")
    end
    return runner.error_status(summary)
  end
  io.stdout:write(cjson.encode(response), "\n")
  if summary.undelivered > 0 then
    plan.log:warn(string.format("%d records could not be delivered; the next pass sends them",
      summary.undelivered))
  end
  return (summary.failed > 0 or summary.undelivered > 0) and 1 or 0
end

return pass
