# The Lambda function: this project's custom runtime (bootstrap at the root
# of the package), its log group and its role.

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = local.lambda.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "streamquery" {
  function_name    = local.name
  description      = "StreamQuery: runs scheduled Athena queries and sends their results to Kinesis"
  role             = aws_iam_role.function.arn
  filename         = local.package_file
  source_code_hash = filebase64sha256(local.package_file)
  handler          = "bootstrap" # unused by a custom runtime, required by the API
  runtime          = "provided.al2023"
  architectures    = ["x86_64"]
  memory_size      = local.lambda.memory
  timeout          = local.lambda.timeout
  tags             = var.tags

  environment {
    # The environment wins over the packaged configuration file.
    variables = merge(
      {
        KINESIS_STREAM = local.stream_name
        LOGGER_LEVEL   = local.lambda.log_level
      },
      local.athena_database == null ? {} : { ATHENA_DATABASE = local.athena_database },
      local.results_bucket == null ? {} : { ATHENA_RESULTS_BUCKET = local.results_bucket },
    )
  }

  lifecycle {
    precondition {
      condition     = local.stream_name != null
      error_message = "No Kinesis stream: set config.destination_kinesis_stream in ${local.config_file} or the kinesis_stream_name variable."
    }
    precondition {
      condition     = local.athena_database != null
      error_message = "No Athena database: set athena.database in ${local.config_file} or the athena_database variable."
    }
    precondition {
      condition     = local.results_bucket != null
      error_message = "No Athena results bucket: set athena.results_bucket in ${local.config_file} or the athena_results_bucket variable."
    }
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function]
}
