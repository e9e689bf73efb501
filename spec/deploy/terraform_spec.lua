-- deploy/: the state machine definition rendered from the sample
-- configuration, and the Terraform module as the npm HCL parser reads it.
local cjson = require("cjson")
local config = require("sq.config")
local schedule = require("sq.schedule")
local helper = require("lambda.helper")
local render = require("deploy.render")

local VALIDATOR = helper.servers .. "/node_modules/asl-validator/dist/bin/asl-validator.js"

-- Runs asl-validator on a definition; returns its output and whether it passed.
local function validate(definition_text)
  local dir = helper.tmpdir()
  helper.write(dir .. "/definition.json", definition_text)
  local output, ok = helper.run("node " .. helper.quote(VALIDATOR) .. " --json-path "
    .. helper.quote(dir .. "/definition.json") .. " 2>&1")
  helper.cleanup(dir)
  return output, ok
end

describe("the state machine definition", function()
  local cfg = render.sample_config()
  local text = render.state_machine(cfg)
  local definition = cjson.decode(text)

  it("rendered from the sample configuration passes asl-validator", function()
    local output, ok = validate(text)
    assert.is_true(ok, output)
  end)

  it("is refused by asl-validator when a state names no next state", function()
    local broken = text:gsub('"Next": "CheckIfDone"', '"Next": "Nowhere"')
    local _, ok = validate(broken)
    assert.is_false(ok)
  end)

  it("times out after sfn_timeout_secs and waits sfn_wait_secs between passes", function()
    assert.are.equal(3600, cfg.sfn_timeout_secs)
    assert.are.equal(3600, definition.TimeoutSeconds)
    assert.are.same({ Type = "Wait", Seconds = 30, Next = "RunQueries" },
      definition.States.WaitForQueries)
  end)

  it("runs, checks done, waits and runs again, ending in Done or FatalError", function()
    assert.are.equal("RunQueries", definition.StartAt)
    local run = definition.States.RunQueries
    assert.are.equal("Task", run.Type)
    assert.are.equal(render.FUNCTION_ARN, run.Resource)
    assert.are.same({ ["execution_id.$"] = "$$.Execution.Id", ["event.$"] = "$" }, run.Parameters)
    assert.are.equal("CheckIfDone", run.Next)
    assert.are.same({ Type = "Choice", Default = "WaitForQueries",
      Choices = { { Variable = "$.done", NumericEquals = 1, Next = "Done" } } },
      definition.States.CheckIfDone)
    assert.are.same({ Type = "Succeed" }, definition.States.Done)
    assert.are.equal("Fail", definition.States.FatalError.Type)
    assert.are.equal("$.error.Error", definition.States.FatalError.ErrorPath)
    assert.are.equal("$.error.Cause", definition.States.FatalError.CausePath)
  end)

  it("retries Lambda service errors and throttling, and fails on anything else", function()
    local run = definition.States.RunQueries
    assert.are.same({ "Lambda.ServiceException", "Lambda.AWSLambdaException",
      "Lambda.SdkClientException", "Lambda.ClientExecutionTimeoutException" },
      run.Retry[1].ErrorEquals)
    assert.are.same({ "Lambda.TooManyRequestsException" }, run.Retry[2].ErrorEquals)
    assert.are.equal(2, #run.Retry)
    assert.are.same({ { ErrorEquals = { "States.ALL" }, ResultPath = "$.error",
      Next = "FatalError" } }, run.Catch)
  end)
end)

describe("the Terraform module", function()
  local parsed = render.terraform()
  local locals = render.locals(parsed)
  local cfg = render.sample_config()
  local document = cjson.decode(helper.read(render.SAMPLE_CONFIG))

  it("parses with the HCL parser, every file", function()
    local files = {}
    for name in pairs(parsed) do
      files[#files + 1] = name
    end
    table.sort(files)
    assert.are.same({ "alarms.tf", "events.tf", "iam.tf", "lambda.tf", "main.tf", "outputs.tf",
      "step_functions.tf", "variables.tf", "versions.tf" }, files)
  end)

  it("documents every variable with a description and a type", function()
    local count = 0
    for name, blocks in pairs(parsed["variables.tf"].variable) do
      count = count + 1
      local variable = blocks[1]
      assert.is_true(type(variable.description) == "string" and #variable.description > 20, name)
      assert.is_string(variable.type, name)
    end
    assert.are.equal(10, count)
  end)

  it("reads the packs from the configuration file, in both spellings", function()
    assert.are.equal('${coalesce(var.config_file, '
      .. '"${path.module}/../conf/scheduled_queries.json")}', locals.config_file)
    assert.are.equal("${jsondecode(file(local.config_file))}", locals.config)
    assert.are.equal("${merge(try(local.config.query_packs, {}), try(local.config.packs, {}))}",
      locals.packs)
  end)

  it("makes a rule per pack with its schedule, starting with the contract's first event", function()
    local rule = render.block(parsed, "resource", "aws_cloudwatch_event_rule", "pack")
    local target = render.block(parsed, "resource", "aws_cloudwatch_event_target", "pack")
    assert.are.equal("${local.packs}", rule.for_each)
    assert.are.equal("${local.packs}", target.for_each)
    assert.are.equal("${each.value.schedule_expression}", rule.schedule_expression)
    assert.are.equal("${local.name}_${each.key}", rule.name)
    assert.are.equal("${aws_cloudwatch_event_rule.pack[each.key].name}", target.rule)
    assert.are.equal("${aws_sfn_state_machine.streamquery.arn}", target.arn)
    local rule_arn = "arn:aws:events:us-east-1:123456789012:rule/streamquery_streamquery_hourly"
    local scheduled = { id = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", time = "2020-02-13T22:01:00Z",
      ["detail-type"] = "Scheduled Event", source = "aws.events", resources = { rule_arn } }
    local packs = {}
    for pack in pairs(document.packs) do
      packs[#packs + 1] = pack
      assert.are.same({
        name = "streamalert_scheduled_queries_cloudwatch_trigger",
        event_id = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        source_arn = rule_arn,
        streamquery_configuration = { clock = "2020-02-13T22:01:00Z", tags = { pack } },
      }, render.input_transformer(target.input_transformer[1], pack, scheduled, rule_arn))
    end
    table.sort(packs)
    assert.are.same({ "daily", "hourly", "two_day", "two_hour" }, packs)
  end)

  it("uses a valid EventBridge schedule for every pack", function()
    for pack, settings in pairs(cfg.packs) do
      local ok, err = schedule.validate(settings.schedule_expression)
      assert.is_true(ok, pack .. ": " .. tostring(err))
    end
    assert.are.equal("cron(1 * * * ? *)", cfg.packs.hourly.schedule_expression)
  end)

  it("runs the package on provided.al2023 with the memory and timeout of lambda_config", function()
    local fn = render.block(parsed, "resource", "aws_lambda_function", "streamquery")
    assert.are.equal("provided.al2023", fn.runtime)
    assert.are.same({ "x86_64" }, fn.architectures)
    assert.are.equal("${local.package_file}", fn.filename)
    assert.are.equal("${filebase64sha256(local.package_file)}", fn.source_code_hash)
    assert.are.equal("${local.lambda.memory}", fn.memory_size)
    assert.are.equal("${local.lambda.timeout}", fn.timeout)
    local log_group = render.block(parsed, "resource", "aws_cloudwatch_log_group", "function")
    assert.are.equal("${local.lambda.log_retention_days}", log_group.retention_in_days)
  end)

  it("defaults every missing setting as the function does", function()
    local dir = helper.tmpdir()
    helper.write(dir .. "/minimal.json", cjson.encode({ enabled = true,
      config = { destination_kinesis_stream = "s" }, packs = {},
      athena = { database = "d", results_bucket = "bucket" } }))
    local defaults = assert(config.load(dir .. "/minimal.json", {}))
    helper.cleanup(dir)
    local lambda = parsed["main.tf"].locals[1].lambda
    local count = 0
    for key, expression in pairs(lambda) do
      count = count + 1
      local default = expression:match("^%${coalesce%(try%(local%.config%.lambda_config%."
        .. key .. ", null%), (.-)%)}$")
      assert.is_string(default, key .. ": " .. expression)
      assert.are.equal(cjson.encode(defaults.lambda[key]), default, key)
    end
    assert.are.equal(8, count)
    assert.are.equal("${coalesce(try(local.config.config.sfn_timeout_secs, null), "
      .. defaults.sfn_timeout_secs .. ")}", locals.sfn_timeout_secs)
    assert.are.equal("${coalesce(try(local.config.config.sfn_wait_secs, null), "
      .. defaults.sfn_wait_secs .. ")}", locals.sfn_wait_secs)
  end)

  it("renders the state machine from the one template with the configured timings", function()
    local machine = render.block(parsed, "resource", "aws_sfn_state_machine", "streamquery")
    assert.are.equal('${templatefile("${path.module}/state_machine.json.tpl", {\n'
      .. "    function_arn     = aws_lambda_function.streamquery.arn\n"
      .. "    sfn_timeout_secs = local.sfn_timeout_secs\n"
      .. "    sfn_wait_secs    = local.sfn_wait_secs\n  })}", machine.definition)
  end)

  it("gives the function only the actions it needs, on its own resources", function()
    local policy = render.block(parsed, "data", "aws_iam_policy_document", "function")
    local known = { partition = "aws", region = "us-east-1", account_id = "123456789012",
      athena_workgroup = cfg.athena.workgroup, athena_database = cfg.athena.database,
      results_bucket = cfg.athena.results_bucket, stream_name = cfg.stream }
    local statements = {}
    local function add(statement)
      local resources = statement.resources -- a list, or one expression for a list
      if type(resources) == "table" then
        resources = {}
        for i, resource in ipairs(statement.resources) do
          resources[i] = render.resolve(resource, locals, known)
        end
      end
      statements[statement.sid] = { actions = statement.actions, resources = resources }
    end
    for _, statement in ipairs(policy.statement) do
      add(statement)
    end
    for _, dynamic in ipairs(policy.dynamic.statement) do
      add(dynamic.content[1])
    end
    assert.are.same({
      RunQueries = { actions = { "athena:StartQueryExecution", "athena:GetQueryExecution",
        "athena:BatchGetQueryExecution", "athena:GetQueryResults", "athena:StopQueryExecution" },
        resources = { "arn:aws:athena:us-east-1:123456789012:workgroup/primary" } },
      ReadCatalog = { actions = { "glue:GetDatabase", "glue:GetTable", "glue:GetTables",
        "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition" },
        resources = { "arn:aws:glue:us-east-1:123456789012:catalog",
          "arn:aws:glue:us-east-1:123456789012:database/streamalert",
          "arn:aws:glue:us-east-1:123456789012:table/streamalert/*" } },
      ResultsBucket = { actions = { "s3:GetBucketLocation", "s3:ListBucket",
        "s3:ListBucketMultipartUploads" },
        resources = { "arn:aws:s3:::prefix-streamalert-athena-results" } },
      ResultsObjects = { actions = { "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts" },
        resources = { "arn:aws:s3:::prefix-streamalert-athena-results/*" } },
      DataBuckets = { actions = { "s3:GetBucketLocation", "s3:ListBucket" },
        resources = "${local.data_bucket_arns}" },
      DataObjects = { actions = { "s3:GetObject" },
        resources = '${[for arn in local.data_bucket_arns : "${arn}/*"]}' },
      SendResults = { actions = { "kinesis:PutRecords" },
        resources = { "arn:aws:kinesis:us-east-1:123456789012:stream/prefix_prod_streamalert" } },
      WriteLogs = { actions = { "logs:CreateLogStream", "logs:PutLogEvents" },
        resources = { "${aws_cloudwatch_log_group.function.arn}:*" } },
      UseKeys = { actions = { "kms:Decrypt", "kms:GenerateDataKey" },
        resources = "${var.kms_key_arns}" },
    }, statements)
    assert.are.equal('${[for bucket in var.data_buckets : '
      .. '"arn:${local.partition}:s3:::${bucket}"]}', locals.data_bucket_arns)
  end)

  it("lets Step Functions invoke the function and EventBridge start the machine", function()
    local sfn = render.block(parsed, "data", "aws_iam_policy_document", "state_machine")
    assert.are.same({ { sid = "InvokeFunction", actions = { "lambda:InvokeFunction" },
      resources = { "${aws_lambda_function.streamquery.arn}",
        "${aws_lambda_function.streamquery.arn}:*" } } }, sfn.statement)
    local events = render.block(parsed, "data", "aws_iam_policy_document", "events")
    assert.are.same({ { sid = "StartExecution", actions = { "states:StartExecution" },
      resources = { "${aws_sfn_state_machine.streamquery.arn}" } } }, events.statement)
  end)

  it("lets each service take only its own role", function()
    local assume = render.block(parsed, "data", "aws_iam_policy_document", "assume")
    assert.are.same({ ["function"] = "lambda.amazonaws.com",
      state_machine = "states.amazonaws.com", events = "events.amazonaws.com" }, assume.for_each)
    assert.are.same({ { actions = { "sts:AssumeRole" }, principals = { { type = "Service",
      identifiers = { "${each.value}" } } } } }, assume.statement)
    for _, role in ipairs({ "function", "state_machine", "events" }) do
      local block = render.block(parsed, "resource", "aws_iam_role", role)
      assert.are.equal('${data.aws_iam_policy_document.assume["' .. role .. '"].json}',
        block.assume_role_policy)
    end
  end)

  it("alarms on function errors and on failed or timed-out executions, if enabled", function()
    local errors = render.block(parsed, "resource", "aws_cloudwatch_metric_alarm",
      "function_errors")
    assert.are.equal("${local.lambda.alarms_enabled ? 1 : 0}", errors.count)
    assert.are.equal("Errors", errors.metric_name)
    assert.are.equal("${local.lambda.error_threshold}", errors.threshold)
    assert.are.equal("${local.lambda.error_period_secs}", errors.period)
    assert.are.equal("${local.lambda.error_evaluation_periods}", errors.evaluation_periods)
    local executions = render.block(parsed, "resource", "aws_cloudwatch_metric_alarm",
      "executions_failed")
    assert.are.equal("${local.lambda.alarms_enabled ? 1 : 0}", executions.count)
    local metrics = {}
    for _, query in ipairs(executions.metric_query) do
      if query.metric then
        metrics[#metrics + 1] = query.metric[1].namespace .. "/" .. query.metric[1].metric_name
      else
        assert.are.equal("FILL(failed, 0) + FILL(timed_out, 0)", query.expression)
      end
    end
    assert.are.same({ "AWS/States/ExecutionsFailed", "AWS/States/ExecutionsTimedOut" }, metrics)
  end)
end)
