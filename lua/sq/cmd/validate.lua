-- bin/host validate: check the configuration and every query, and list
-- every problem found (on stdout, one a line, then a summary line).
--
-- Beyond what loading checks, it renders each query once for a clock (so a
-- calculator that fails, or SQL past Athena's size limit, shows up now
-- rather than at 3 a.m.), and warns about a query no pack runs, a pack that
-- runs no query, and a query that has no Athena database.
local args = require("sq.args")
local clockobj = require("sq.clock")
local config = require("sq.config")
local queries = require("sq.queries")
local run = require("sq.cmd.run")
local selection = require("sq.selection")

local validate = {}

local ATHENA_QUERY_MAX = 262144 -- bytes

validate.spec = {
  command = "validate",
  summary = "Check the configuration and every query definition, and list every problem.",
  options = {
    { name = "config", value = "PATH", help = "configuration file "
      .. "(default: conf/scheduled_queries.json)" },
    { name = "queries", value = "DIR", help = "query definitions (default: scheduled_queries)" },
    { name = "clock", value = "ISO", help = "the clock to render each query for "
      .. "(default: now)" },
  },
  notes = {
    "Problems are printed as FILE:LINE: message (queries) or",
    "FILE: $.json.path: message (configuration); warnings say \"warning:\".",
    "Exit status: 0 no errors (warnings allowed); 1 errors were found; 2 usage error.",
  },
}

local function plural(n, word, words)
  return string.format("%d %s", n, n == 1 and word or words or word .. "s")
end

-- Checks that go across the configuration and the queries.
local function cross_check(cfg, set, clock, add_query, add_config)
  local unscheduled = {}
  for _, query in ipairs(selection.unscheduled(set, cfg.pack_names)) do
    unscheduled[query] = true
  end
  local database = cfg.athena and cfg.athena.database
  for _, query in ipairs(set.list) do
    local values, sql = run.render(query, clock)
    if values == nil then
      add_query(query, "error", (sql:gsub("^[^:]*:%d+: ", "")))
    elseif #sql > ATHENA_QUERY_MAX then
      add_query(query, "error", string.format("query %s renders to %d bytes of SQL; Athena "
        .. "accepts at most %d", query.name, #sql, ATHENA_QUERY_MAX))
    end
    if unscheduled[query] then
      add_query(query, "warning", string.format("query %s is in no pack: none of its tags (%s) "
        .. "is a pack name (%s)", query.name, table.concat(query.tags, ", "),
        table.concat(cfg.pack_names, ", ")))
    end
    if not query.database and not database then
      add_query(query, "warning", string.format("query %s has no Athena database: set "
        .. "athena.database in the configuration or database in the query", query.name))
    end
    if query.timeout_secs and query.timeout_secs > cfg.sfn_timeout_secs then
      add_query(query, "warning", string.format("timeout_secs %d is longer than the execution "
        .. "may last (sfn_timeout_secs %d)", query.timeout_secs, cfg.sfn_timeout_secs))
    end
  end
  for _, pack in ipairs(selection.empty_packs(set, cfg.pack_names)) do
    add_config("$.packs." .. pack, string.format("pack %s runs no query: no query has the tag %s",
      pack, pack))
  end
end

-- Runs every check. Returns the lines to print (problems then summary)
-- and the number of errors.
function validate.check(opts, root)
  local lines, errors, warnings = {}, 0, 0
  local function count(level)
    if level == "error" then
      errors = errors + 1
    else
      warnings = warnings + 1
    end
  end
  local cfg, config_problems = run.load_config(opts, root)
  for _, p in ipairs(config_problems) do
    count(p.level)
    lines[#lines + 1] = config.format_problem(p)
  end
  local set, query_problems = run.load_queries(opts, root)
  for _, p in ipairs(query_problems) do
    count(p.level)
    lines[#lines + 1] = queries.format_problem(p)
  end
  local config_file = opts.config or config.default_path(nil)
  if cfg and set then
    cross_check(cfg, set, opts.clock_object or clockobj.now(),
      function(query, level, message)
        count(level)
        lines[#lines + 1] = queries.format_problem({ level = level, file = query.file,
          line = query.line, message = message })
      end,
      function(path, message)
        count("warning")
        lines[#lines + 1] = config.format_problem({ level = "warning", file = config_file,
          path = path, message = message })
      end)
  end
  local what = {}
  if set then
    what[#what + 1] = string.format("%s in %s", plural(#set.list, "query", "queries"),
      plural(set.files, "file"))
  else
    what[#what + 1] = "query definitions not loaded"
  end
  what[#what + 1] = cfg and plural(#cfg.pack_names, "pack") or "configuration not loaded"
  lines[#lines + 1] = string.format("%s: %s, %s", table.concat(what, ", "),
    plural(errors, "error"), plural(warnings, "warning"))
  return lines, errors
end

-- The command.
function validate.run(argv, ctx)
  local opts, err = args.parse(validate.spec, argv)
  if opts and opts.clock then
    opts.clock_object, err = clockobj.parse(opts.clock)
    if opts.clock_object == nil then
      opts, err = nil, "--clock: " .. err
    end
  end
  if opts == nil then
    return args.fail(validate.spec, err)
  end
  if opts.help then
    io.stdout:write(args.help(validate.spec))
    return 0
  end
  local lines, errors = validate.check(opts, ctx.root)
  io.stdout:write(table.concat(lines, "\n"), "\n")
  return errors > 0 and 1 or 0
end

return validate
