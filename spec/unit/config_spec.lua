-- Loading and checking conf/scheduled_queries.json (sq.config).
local config = require("sq.config")

local ROOT = os.getenv("STREAMQUERY_ROOT") or "."
local FIXTURES = ROOT .. "/spec/fixtures/config/"

local LAMBDA_DEFAULTS = {
  log_level = "info", log_retention_days = 14, memory = 128, timeout = 60,
  alarms_enabled = true, error_threshold = 1, error_period_secs = 3600,
  error_evaluation_periods = 2,
}
local LIMIT_DEFAULTS = { max_concurrent_queries = 20, start_rate_per_second = 20,
  http_concurrency = 8 }

-- Writes text to a temporary file and loads it; returns cfg, problems, path.
local function load_text(text, env)
  local path = os.tmpname()
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
  local cfg, problems = config.load(path, env or {})
  os.remove(path)
  return cfg, problems, path
end

-- A problem as config.load reports it.
local function problem(level, file, path, message)
  return { level = level, file = file, path = path, message = message }
end

-- The smallest valid file, with extra top-level members spliced in.
local function minimal(extra)
  return '{"enabled": true, "packs": {"hourly": {"description": "h",'
    .. ' "schedule_expression": "rate(1 hour)"}}' .. (extra or "") .. "}"
end

-- Copies a table and overrides some of its keys.
local function with(base, changes)
  local copy = {}
  for key, value in pairs(base) do
    copy[key] = value
  end
  for key, value in pairs(changes) do
    copy[key] = value
  end
  return copy
end

describe("config.load", function()
  it("loads the shipped conf/scheduled_queries.json without a problem", function()
    local path = config.default_path(ROOT)
    local cfg, problems = config.load(path, {})
    assert.are.same({}, problems)
    assert.are.same({
      path = path,
      enabled = true,
      stream = "prefix_prod_streamalert",
      sfn_timeout_secs = 3600,
      sfn_wait_secs = 30,
      packs = {
        hourly = { description = "Hourly queries, at one minute past each hour (UTC)",
                   schedule_expression = "cron(1 * * * ? *)" },
        two_hour = { description = "Queries run every two hours",
                     schedule_expression = "rate(2 hours)" },
        daily = { description = "Daily queries, at 00:05 UTC",
                  schedule_expression = "cron(5 0 * * ? *)" },
        two_day = { description = "Queries run every two days",
                    schedule_expression = "rate(2 days)" },
      },
      pack_names = { "daily", "hourly", "two_day", "two_hour" },
      lambda = LAMBDA_DEFAULTS,
      log_level = "info",
      athena = { database = "streamalert", workgroup = "primary",
                 output_location = "s3://prefix-streamalert-athena-results/",
                 results_bucket = "prefix-streamalert-athena-results" },
      limits = LIMIT_DEFAULTS,
    }, cfg)
  end)

  it("loads the reference document's own example file unchanged", function()
    local reference = assert(io.open(ROOT .. "/../shared/reference/scheduled-queries.txt"))
    local text = reference:read("a")
    reference:close()
    local example = text:match("conf/scheduled_queries%.json%.%s*\n(%{\n.-\n%})\n")
    assert.is_string(example)
    local cfg, problems = load_text(example)
    assert.are.same({}, problems)
    assert.is_true(cfg.enabled)
    assert.are.equal("prefix_prod_streamalert", cfg.stream)
    assert.are.same({ "daily", "hourly", "two_day", "two_hour" }, cfg.pack_names)
    assert.are.equal("rate(24 hours)", cfg.packs.daily.schedule_expression)
    assert.are.same(LAMBDA_DEFAULTS, cfg.lambda)
  end)

  it("loads the original's shape: destination_kinesis and query_packs", function()
    local path = FIXTURES .. "query_packs.json"
    local cfg, problems = config.load(path, {})
    assert.are.same({}, problems)
    assert.are.same({
      path = path,
      enabled = true,
      stream = "acme_prod_streamalert",
      sfn_timeout_secs = 1800,
      sfn_wait_secs = 15,
      packs = {
        hourly = { description = "Every hour on the hour", schedule_expression = "rate(1 hour)" },
        ["weekday-mornings"] = { description = "Business days at 07:30 UTC",
                                 schedule_expression = "cron(30 7 ? * MON-FRI *)" },
      },
      pack_names = { "hourly", "weekday-mornings" },
      lambda = with(LAMBDA_DEFAULTS, { log_level = "debug", log_retention_days = 30, memory = 256,
                                       timeout = 120, alarms_enabled = false }),
      log_level = "debug",
      athena = { workgroup = "primary" },
      limits = LIMIT_DEFAULTS,
    }, cfg)
  end)

  it("accepts both stream spellings when they agree", function()
    local cfg, problems = load_text(minimal(', "config": {"destination_kinesis": "s1",'
      .. ' "destination_kinesis_stream": "s1"}'))
    assert.are.same({}, problems)
    assert.are.equal("s1", cfg.stream)
  end)

  it("refuses both stream spellings when they differ", function()
    local cfg, problems, path = load_text(minimal(', "config": {"destination_kinesis": "s1",'
      .. ' "destination_kinesis_stream": "s2"}'))
    assert.is_nil(cfg)
    assert.are.same({ problem("error", path, "$.config.destination_kinesis_stream",
      'conflicts with $.config.destination_kinesis ("s2" and "s1"): keep one of them') }, problems)
  end)

  it("refuses packs and query_packs together", function()
    local cfg, problems, path = load_text(minimal(', "query_packs": {}'))
    assert.is_nil(cfg)
    assert.are.same({ problem("error", path, "$.query_packs",
      "both $.packs and $.query_packs are present: keep one of them") }, problems)
  end)

  it("warns about unknown keys anywhere, with their paths, and still loads", function()
    local path = FIXTURES .. "unknown_keys.json"
    local cfg, problems = config.load(path, {})
    assert.are.same({
      problem("warning", path, "$.owner", "unknown key, ignored (expected enabled, config, packs,"
        .. " query_packs, lambda_config, athena, limits)"),
      problem("warning", path, "$.config.sfn_wait_sec",
        "unknown key, ignored: did you mean sfn_wait_secs?"),
      problem("warning", path, "$.packs.daily.timezone",
        "unknown key, ignored (expected description, schedule_expression)"),
      problem("warning", path, "$.lambda_config.concurrency_limit", "unknown key, ignored"
        .. " (expected log_level, alarms_enabled, log_retention_days, memory, timeout,"
        .. " error_threshold, error_period_secs, error_evaluation_periods)"),
      problem("warning", path, "$.athena.work_group",
        "unknown key, ignored: did you mean workgroup?"),
      problem("warning", path, '$.limits["rows per record"]', "unknown key, ignored"
        .. " (expected max_concurrent_queries, start_rate_per_second, http_concurrency)"),
    }, problems)
    assert.is_false(cfg.enabled)
    assert.are.equal("acme_streamalert", cfg.stream)
    assert.are.equal(30, cfg.sfn_wait_secs)
    assert.are.same({ database = "streamalert", workgroup = "primary" }, cfg.athena)
    assert.are.same(with(LIMIT_DEFAULTS, { max_concurrent_queries = 5 }), cfg.limits)
  end)

  it("reports invalid JSON with its line and column", function()
    local path = FIXTURES .. "trailing_comma.json"
    local cfg, problems = config.load(path, {})
    assert.is_nil(cfg)
    assert.are.same({ problem("error", path, "$", "invalid JSON at line 6, column 5: expected"
      .. " object key string but found '}' (remove the trailing comma)") }, problems)
  end)

  it("counts columns in characters and names what it found", function()
    local _, problems = load_text('{\n  "caf\195\169": nope\n}')
    assert.are.equal("invalid JSON at line 2, column 11: expected value but found invalid token",
      problems[1].message)
    _, problems = load_text('{"enabled": true')
    assert.are.equal("invalid JSON at line 1, column 17: expected comma or object end but found"
      .. " the end of the file", problems[1].message)
    _, problems = load_text("")
    assert.are.equal("invalid JSON at line 1, column 1: expected value but found the end of the"
      .. " file", problems[1].message)
    _, problems = load_text('{"enabled": NaN}')
    assert.are.equal("invalid JSON at line 1, column 13: expected value but found invalid token",
      problems[1].message)
  end)

  it("refuses a document that is not an object", function()
    local cfg, problems, path = load_text('["enabled"]')
    assert.is_nil(cfg)
    assert.are.same({ problem("error", path, "$", "must be a JSON object, got an array") },
      problems)
  end)

  it("refuses an empty array as the document, with or without white space", function()
    for _, text in ipairs({ "[]", " [ \n ]\n" }) do
      local cfg, problems, path = load_text(text)
      assert.is_nil(cfg)
      assert.are.same({ problem("error", path, "$", "must be a JSON object, got an array") },
        problems)
      assert.are.equal(path .. ": $: must be a JSON object, got an array",
        config.format_problem(problems[1]))
    end
  end)

  it("refuses an empty array where a section belongs, and keeps [] inside strings", function()
    local cfg, problems, path = load_text('{"enabled": true, "packs": {"hourly": {'
      .. '"description": "say \\"[]\\" [ ]\\\\", "schedule_expression": "rate(1 hour)"}},'
      .. ' "athena": [], "limits": [ ]}')
    assert.is_nil(cfg)
    assert.are.same({
      problem("error", path, "$.athena", "must be an object, got an array"),
      problem("error", path, "$.limits", "must be an object, got an array"),
    }, problems)
    cfg, problems = load_text('{"enabled": true, "packs": {"hourly": {'
      .. '"description": "say \\"[]\\" [ ]\\\\", "schedule_expression": "rate(1 hour)"}}}')
    assert.are.same({}, problems)
    assert.are.equal('say "[]" [ ]\\', cfg.packs.hourly.description)
  end)

  it("reports a missing file", function()
    local path = ROOT .. "/spec/fixtures/config/no_such_file.json"
    local cfg, problems = config.load(path, {})
    assert.is_nil(cfg)
    assert.are.same({ problem("error", path, "$",
      "cannot read the file: No such file or directory") }, problems)
  end)

  it("reports every wrong type and value with its path", function()
    local path = FIXTURES .. "wrong_types.json"
    local cfg, problems = config.load(path, {})
    assert.is_nil(cfg)
    local function e(where, message)
      return problem("error", path, where, message)
    end
    assert.are.same({
      e("$.enabled", 'must be a boolean (true or false), got "true"'),
      e("$.config.destination_kinesis_stream", "must be a string, got 42"),
      e("$.config.sfn_timeout_secs", 'must be a positive integer, got "3600"'),
      e("$.config.sfn_wait_secs", "must be a positive integer, got 0"),
      e("$.packs.daily.schedule_expression",
        "missing: every pack needs one, for example rate(1 hour) or cron(1 * * * ? *)"),
      e("$.packs.hourly.description", "must be a string, got an array"),
      e("$.packs.hourly.schedule_expression", "cron(1 * * * *) has 5 fields; EventBridge needs 6"
        .. " (minutes hours day-of-month month day-of-week year): did you mean cron(1 * * * ? *)?"),
      e('$.packs["nightly batch"]',
        'a pack name may only hold letters, digits, _ and -: "nightly batch"'),
      e("$.packs.weekly",
        'must be an object with description and schedule_expression, got "rate(7 days)"'),
      e("$.lambda_config.log_level",
        'must be debug, info, warning, error or critical, got "verbose"'),
      e("$.lambda_config.alarms_enabled", "must be a boolean (true or false), got 1"),
      e("$.lambda_config.memory", "must be between 128 and 10240, got 64"),
      e("$.lambda_config.timeout", "must be a positive integer, got 1.5"),
      e("$.athena.output_location",
        'must be an S3 URL such as "s3://bucket/prefix/", got "https://example.invalid/results/"'),
      e("$.athena.results_bucket", 'must be a bucket name, not a URL: "acme-results"'),
      e("$.limits.http_concurrency", "must be a positive integer, got -2"),
    }, problems)
  end)

  it("refuses a section of the wrong type", function()
    local cfg, problems, path = load_text(minimal(', "athena": "streamalert", "limits": [1]'))
    assert.is_nil(cfg)
    assert.are.same({
      problem("error", path, "$.athena", 'must be an object, got "streamalert"'),
      problem("error", path, "$.limits", "must be an object, got an array"),
    }, problems)
  end)

  it("refuses stream and bucket names that AWS would refuse", function()
    local cfg, problems, path = load_text(minimal(', "config": {"destination_kinesis":'
      .. ' "my stream"}, "athena": {"results_bucket": "My_Bucket"}'))
    assert.is_nil(cfg)
    assert.are.same({
      problem("error", path, "$.config.destination_kinesis",
        'is not a Kinesis stream name (1 to 128 of A-Z a-z 0-9 _ . -): "my stream"'),
      problem("error", path, "$.athena.results_bucket",
        'is not an S3 bucket name (3 to 63 of a-z 0-9 . -): "My_Bucket"'),
    }, problems)
  end)

  it("takes limits up to what one execution and the HTTP client can use", function()
    local cfg, problems = load_text(minimal(', "limits": {"max_concurrent_queries": 1000,'
      .. ' "start_rate_per_second": 1000, "http_concurrency": 256}'))
    assert.are.same({}, problems)
    assert.are.same({ max_concurrent_queries = 1000, start_rate_per_second = 1000,
                      http_concurrency = 256 }, cfg.limits)
  end)

  it("refuses limits past them, as validate must before run fails", function()
    local cfg, problems, path = load_text(minimal(', "limits": {"max_concurrent_queries": 1001,'
      .. ' "start_rate_per_second": 5000, "http_concurrency": 257}'))
    assert.is_nil(cfg)
    assert.are.same({
      problem("error", path, "$.limits.max_concurrent_queries",
        "must be between 1 and 1000, got 1001"),
      problem("error", path, "$.limits.start_rate_per_second",
        "must be between 1 and 1000, got 5000"),
      problem("error", path, "$.limits.http_concurrency", "must be between 1 and 256, got 257"),
    }, problems)
  end)

  it("calls a whole number too large for an integer out of bounds, not a non-integer", function()
    local cfg, problems, path = load_text(minimal(', "limits": {"http_concurrency": 1e20},'
      .. ' "config": {"sfn_timeout_secs": 1e20}'))
    assert.is_nil(cfg)
    assert.are.same({
      problem("error", path, "$.config.sfn_timeout_secs",
        "must be between 1 and 9223372036854775807, got 1e+20"),
      problem("error", path, "$.limits.http_concurrency", "must be between 1 and 256, got 1e+20"),
    }, problems)
  end)

  it("applies the defaults when optional sections are absent or null", function()
    local cfg, problems = load_text(minimal(', "config": null, "lambda_config": null,'
      .. ' "athena": {"database": null, "workgroup": null}, "limits": {}'))
    assert.are.same({}, problems)
    assert.is_nil(cfg.stream)
    assert.are.equal(3600, cfg.sfn_timeout_secs)
    assert.are.equal(30, cfg.sfn_wait_secs)
    assert.are.same(LAMBDA_DEFAULTS, cfg.lambda)
    assert.are.same({ workgroup = "primary" }, cfg.athena)
    assert.are.same(LIMIT_DEFAULTS, cfg.limits)
  end)

  it("leaves athena.database unset, without a warning, when neither file nor environment has it",
    function()
      local cfg, problems = load_text(minimal(', "athena": {"results_bucket": "acme-results"}'))
      assert.are.same({}, problems)
      assert.is_nil(cfg.athena.database)
      assert.are.equal("s3://acme-results/", cfg.athena.output_location)
    end)

  it("keeps an explicit athena.output_location", function()
    local cfg, problems = load_text(minimal(', "athena": {"results_bucket": "acme-results",'
      .. ' "output_location": "s3://acme-other/athena/", "workgroup": "analysts",'
      .. ' "region": "eu-west-1"}'))
    assert.are.same({}, problems)
    assert.are.same({ workgroup = "analysts", region = "eu-west-1",
                      output_location = "s3://acme-other/athena/",
                      results_bucket = "acme-results" }, cfg.athena)
  end)

  it("takes integral JSON numbers in any notation as integers", function()
    local cfg, problems = load_text(minimal(', "config": {"sfn_timeout_secs": 3.6e3,'
      .. ' "sfn_wait_secs": 30.0}'))
    assert.are.same({}, problems)
    assert.are.equal(3600, cfg.sfn_timeout_secs)
    assert.are.equal(math.type(1), math.type(cfg.sfn_timeout_secs))
    assert.are.equal(30, cfg.sfn_wait_secs)
  end)

  it("warns when sfn_wait_secs leaves room for a single pass", function()
    local cfg, problems, path = load_text(minimal(', "config": {"sfn_timeout_secs": 60,'
      .. ' "sfn_wait_secs": 60}'))
    assert.are.same({ problem("warning", path, "$.config.sfn_wait_secs",
      "is not less than sfn_timeout_secs (60): an execution gets a single pass") }, problems)
    assert.are.equal(60, cfg.sfn_wait_secs)
  end)

  it("takes a missing enabled as false, with a warning", function()
    local cfg, problems, path = load_text('{"packs": {}}')
    assert.are.same({ problem("warning", path, "$.enabled",
      "missing, taken as false: set true to activate scheduled queries") }, problems)
    assert.is_false(cfg.enabled)
    assert.are.same({}, cfg.pack_names)
  end)

  it("warns when no pack is defined", function()
    local cfg, problems, path = load_text('{"enabled": true}')
    assert.are.same({ problem("warning", path, "$.packs", "missing: no query pack is scheduled") },
      problems)
    assert.are.same({}, cfg.packs)
  end)

  describe("with the environment", function()
    local FILE = minimal(', "config": {"destination_kinesis_stream": "file_stream"},'
      .. ' "lambda_config": {"log_level": "info"}, "athena": {"database": "file_db",'
      .. ' "results_bucket": "file-bucket", "region": "us-east-1"}')

    it("lets REGION, ATHENA_DATABASE, ATHENA_RESULTS_BUCKET, KINESIS_STREAM and LOGGER_LEVEL win",
      function()
        local cfg, problems = load_text(FILE, {
          REGION = "eu-central-1", ATHENA_DATABASE = "env_db", ATHENA_RESULTS_BUCKET = "env-bucket",
          KINESIS_STREAM = "env_stream", LOGGER_LEVEL = "WARNING",
        })
        assert.are.same({}, problems)
        assert.are.equal("env_stream", cfg.stream)
        assert.are.equal("warning", cfg.log_level)
        assert.are.equal("info", cfg.lambda.log_level)
        assert.are.same({ database = "env_db", workgroup = "primary", region = "eu-central-1",
                          results_bucket = "env-bucket",
                          output_location = "s3://env-bucket/" }, cfg.athena)
      end)

    it("does not read AWS_REGION, and ignores empty variables", function()
      local cfg, problems = load_text(FILE, { AWS_REGION = "ap-south-1", REGION = "",
                                              KINESIS_STREAM = "" })
      assert.are.same({}, problems)
      assert.are.equal("us-east-1", cfg.athena.region)
      assert.are.equal("file_stream", cfg.stream)
    end)

    it("fills what the file leaves out", function()
      local cfg, problems = load_text('{"enabled": true, "packs": {}}', {
        ATHENA_DATABASE = "env_db", ATHENA_RESULTS_BUCKET = "env-bucket", KINESIS_STREAM = "env_s",
      })
      assert.are.same({}, problems)
      assert.are.equal("env_s", cfg.stream)
      assert.are.equal("env_db", cfg.athena.database)
      assert.are.equal("s3://env-bucket/", cfg.athena.output_location)
    end)

    it("reports bad values by variable name", function()
      local cfg, problems = load_text(FILE, { LOGGER_LEVEL = "loud", KINESIS_STREAM = "a/b",
                                              ATHENA_RESULTS_BUCKET = "s3://env-bucket/x" })
      assert.is_nil(cfg)
      assert.are.same({
        problem("error", "environment", "ATHENA_RESULTS_BUCKET",
          'must be a bucket name, not a URL: "env-bucket"'),
        problem("error", "environment", "KINESIS_STREAM",
          'is not a Kinesis stream name (1 to 128 of A-Z a-z 0-9 _ . -): "a/b"'),
        problem("error", "environment", "LOGGER_LEVEL",
          'must be debug, info, warning, error or critical, got "loud"'),
      }, problems)
      assert.are.equal('environment: LOGGER_LEVEL: must be debug, info, warning, error or'
        .. ' critical, got "loud"', config.format_problem(problems[3]))
    end)

    it("reads the process environment when no table is given", function()
      local script = os.tmpname()
      local file = assert(io.open(script, "w"))
      file:write(string.format("package.path = %q .. package.path\n", ROOT .. "/lua/?.lua;"),
        "local config = require('sq.config')\n",
        string.format("local cfg = assert(config.load(%q))\n", config.default_path(ROOT)),
        "io.write(cfg.stream, ' ', cfg.athena.database, ' ', cfg.log_level)\n")
      file:close()
      local pipe = assert(io.popen("KINESIS_STREAM=proc_stream ATHENA_DATABASE=proc_db"
        .. " LOGGER_LEVEL=debug lua5.4 " .. script))
      local output = pipe:read("a")
      pipe:close()
      os.remove(script)
      assert.are.equal("proc_stream proc_db debug", output)
    end)
  end)
end)

describe("config.format_problem", function()
  it("writes the file, the JSON path and the message", function()
    assert.are.equal("conf/scheduled_queries.json: $.packs.hourly.schedule_expression:"
      .. " rate(1 hours): use the singular unit for 1: rate(1 hour)",
      config.format_problem({ level = "error", file = "conf/scheduled_queries.json",
        path = "$.packs.hourly.schedule_expression",
        message = "rate(1 hours): use the singular unit for 1: rate(1 hour)" }))
  end)

  it("marks warnings", function()
    assert.are.equal("conf/x.json: $.owner: warning: unknown key, ignored",
      config.format_problem({ level = "warning", file = "conf/x.json", path = "$.owner",
        message = "unknown key, ignored" }))
  end)

  it("names the default file when a problem carries none", function()
    assert.are.equal("conf/scheduled_queries.json: $.enabled: must be a boolean",
      config.format_problem({ level = "error", path = "$.enabled",
        message = "must be a boolean" }))
  end)
end)

describe("config.default_path", function()
  it("places the file under conf/ of the root", function()
    assert.are.equal("/srv/sq/conf/scheduled_queries.json", config.default_path("/srv/sq"))
    assert.are.equal("conf/scheduled_queries.json", config.default_path())
  end)
end)
