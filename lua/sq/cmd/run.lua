-- bin/host run: run the selected queries; --dry-run renders them instead.
--
-- The parts a real run shares with the dry run are separate functions:
--   run.parse(argv)          --> opts | nil, message (a usage error)
--   run.prepare(opts, ctx)   --> plan | nil, exit status (messages already printed)
--     plan = { config =, set =, selected = { queries }, clock = sq.clock object,
--              tags = { ... }, names = { ... }, log = sq.log logger, root = }
--   run.dry_run(plan, opts, out) --> exit status
-- A command that needs more options appends them to run.spec.options.
local args = require("sq.args")
local cjson = require("cjson")
local clockobj = require("sq.clock")
local config = require("sq.config")
local log = require("sq.log")
local params = require("sq.params")
local queries = require("sq.queries")
local selection = require("sq.selection")
local template = require("sq.template")
local runner = require("sq.runner")

local run = {}

run.spec = {
  command = "run",
  summary = "Run the queries selected by --tags and --query. With --dry-run, print each\n"
    .. "selected query's parameters and rendered SQL instead, without contacting AWS.",
  options = {
    { name = "dry-run", help = "render the selected queries and print them; run nothing" },
    { name = "clock", value = "ISO", help = "the execution clock, YYYY-MM-DDTHH:MM:SSZ "
      .. "(default: now)" },
    { name = "tags", value = "a,b", repeatable = true,
      help = "select the queries carrying all of these tags (default: every query)" },
    { name = "query", value = "NAME", repeatable = true, help = "select a query by name" },
    { name = "json", help = "with --dry-run: one JSON object per query and line" },
    { name = "config", value = "PATH", help = "configuration file "
      .. "(default: conf/scheduled_queries.json)" },
    { name = "queries", value = "DIR", help = "query definitions (default: scheduled_queries)" },
    runner.OPTIONS.engine, runner.OPTIONS.data, runner.OPTIONS.sink, runner.OPTIONS.wait,
    runner.OPTIONS.budget,
  },
  notes = {
    "Exit status: 0 success; 1 a query failed (with --dry-run: a parameter could not",
    "be computed or the SQL rendered); 2 usage error, or invalid configuration or",
    "query files.",
  },
}

-- Parses the command line. Returns opts, or nil and a message.
function run.parse(argv)
  local opts, err = args.parse(run.spec, argv)
  if opts == nil then
    return nil, err
  end
  local tags = {}
  for _, text in ipairs(opts.tags or {}) do
    local list, tags_err = selection.parse_tags(text)
    if list == nil then
      return nil, "--tags: " .. tags_err
    end
    table.move(list, 1, #list, #tags + 1, tags)
  end
  opts.tag_list = tags
  if opts.clock ~= nil then
    local clock, clock_err = clockobj.parse(opts.clock)
    if clock == nil then
      return nil, "--clock: " .. clock_err
    end
    opts.clock_object = clock
  end
  return opts
end

-- The configuration path as given, and where to read it.
local function config_paths(opts, root)
  if opts.config then
    return opts.config, opts.config
  end
  return config.default_path(nil), config.default_path(root)
end

-- The query folder as given, and where to read it.
local function queries_paths(opts, root)
  if opts.queries then
    return opts.queries, opts.queries
  end
  return "scheduled_queries", root .. "/scheduled_queries"
end

-- Loads the configuration; returns cfg and its problems, each naming the
-- file as the user knows it.
function run.load_config(opts, root)
  local shown, path = config_paths(opts, root)
  local cfg, problems = config.load(path)
  for _, p in ipairs(problems) do
    if p.file == path then
      p.file = shown
    end
  end
  return cfg, problems
end

-- Loads the query definitions; returns set and problems.
function run.load_queries(opts, root)
  local shown, dir = queries_paths(opts, root)
  return queries.load_dir(dir, { label = shown })
end

-- Logs problems; returns true when one of them is an error.
local function report(logger, problems, where)
  local failed = false
  for _, p in ipairs(problems) do
    failed = failed or p.level == "error"
    logger:log(p.level == "warning" and "warn" or "error", where(p) .. ": " .. p.message)
  end
  return failed
end

-- Where a configuration problem is: "FILE: $.json.path".
function run.config_where(p)
  return string.format("%s: %s", p.file or "configuration", p.path or "$")
end

-- Where a query problem is: "FILE:LINE".
function run.query_where(p)
  return p.line and string.format("%s:%d", p.file, p.line) or p.file
end

-- The logger of a command: debug with --debug, else the configured level.
function run.logger(ctx, cfg)
  local level = ctx.debug and "debug" or log.level_name(cfg and cfg.log_level) or "info"
  return log.new { level = level }
end

-- Loads everything a run needs and selects the queries.
function run.prepare(opts, ctx)
  local root = ctx.root
  local cfg, config_problems = run.load_config(opts, root)
  local logger = run.logger(ctx, cfg)
  local bad_config = report(logger, config_problems, run.config_where)
  local set, query_problems = run.load_queries(opts, root)
  local bad_queries = report(logger, query_problems, run.query_where)
  if bad_config or bad_queries or cfg == nil or set == nil then
    logger:error("nothing was run: fix the problems above (bin/host validate lists them all)")
    return nil, 2
  end
  local names = opts.query or {}
  local selected, err = selection.select(set, { tags = opts.tag_list, names = names })
  if selected == nil then
    return nil, args.fail(run.spec, "--query: " .. err)
  end
  return {
    root = root, config = cfg, set = set, selected = selected, log = logger,
    clock = opts.clock_object or clockobj.now(), tags = opts.tag_list, names = names,
  }
end

-- Renders one query for a clock: returns values and sql, or nil and a message.
function run.render(query, clock)
  local values, err = params.compute(query, clock)
  if values == nil then
    return nil, err
  end
  local sql, render_err = template.render(query.query, values)
  if sql == nil then
    return nil, string.format("%s:%d: query %s: %s", query.file, query.line, query.name,
      render_err)
  end
  return values, sql
end

-- One query as a JSON line, keys in a fixed order.
local function json_line(query, values, sql)
  local parameters = {}
  for _, param in ipairs(query.params) do
    local name = param.name
    parameters[#parameters + 1] = cjson.encode(name) .. ":" .. cjson.encode(values[name])
  end
  return string.format('{"name":%s,"tags":%s,"parameters":{%s},"query":%s}\n',
    cjson.encode(query.name), cjson.encode(query.tags), table.concat(parameters, ","),
    cjson.encode(sql))
end

-- One query as text: a header, its parameters, its SQL, as SQL comments
-- around the statement so the output can be pasted into a console.
local function text_block(query, values, sql)
  local lines = { string.format("-- %s [%s]", query.name, table.concat(query.tags, ", ")) }
  for _, param in ipairs(query.params) do
    local shown = values[param.name]:gsub("\n", "\\n")
    lines[#lines + 1] = string.format("-- %s = %s", param.name, shown)
  end
  lines[#lines + 1] = (sql:gsub("^%s*\n", ""):gsub("%s+$", ""))
  return table.concat(lines, "\n") .. "\n\n"
end

-- Prints every selected query, rendered for the plan's clock.
function run.dry_run(plan, opts, out)
  out = out or io.stdout
  local status = 0
  for _, query in ipairs(plan.selected) do
    local values, sql = run.render(query, plan.clock)
    if values == nil then
      plan.log:error(sql)
      status = 1
    elseif opts.json then
      out:write(json_line(query, values, sql))
    else
      out:write(text_block(query, values, sql))
    end
  end
  return status
end

-- The command.
function run.run(argv, ctx)
  local opts, err = run.parse(argv)
  if opts == nil then
    return args.fail(run.spec, err)
  end
  if opts.help then
    io.stdout:write(args.help(run.spec))
    return 0
  end
  if opts.dry_run then
    for _, option in ipairs({ "engine", "data", "sink", "wait", "budget" }) do
      if opts[option] ~= nil then
        return args.fail(run.spec, "--" .. option .. " is for real runs, not --dry-run")
      end
    end
  else
    if opts.json then
      return args.fail(run.spec, "--json is for --dry-run; real runs print records as JSON")
    end
    local ok, check_err = runner.check_options(opts)
    if not ok then
      return args.fail(run.spec, check_err)
    end
  end
  local plan, status = run.prepare(opts, ctx)
  if plan == nil then
    return status
  end
  if opts.dry_run then
    if #plan.selected == 0 then
      plan.log:warn(selection.describe_nothing(plan.tags, plan.names))
    end
    return run.dry_run(plan, opts)
  end
  return runner.run(plan, opts)
end

return run
