# StreamQuery on AWS: one EventBridge schedule per query pack starts a Step
# Functions execution, which calls the Lambda function (this project's
# custom runtime) pass after pass until it says it is done.
#
# The packs and every setting are read here from the configuration file, so
# adding a pack needs no generated file: edit conf/scheduled_queries.json,
# `make package`, `terraform apply`. Missing settings take the same defaults
# as the function (lua/sq/config.lua); a JSON null counts as missing.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  config_file  = coalesce(var.config_file, "${path.module}/../conf/scheduled_queries.json")
  package_file = coalesce(var.package_file, "${path.module}/../dist/streamquery-lambda.zip")
  config       = jsondecode(file(local.config_file))

  enabled = coalesce(try(local.config.enabled, null), false)
  # Both spellings of the original are accepted: packs and query_packs.
  packs = merge(try(local.config.query_packs, {}), try(local.config.packs, {}))

  sfn_timeout_secs = coalesce(try(local.config.config.sfn_timeout_secs, null), 3600)
  sfn_wait_secs    = coalesce(try(local.config.config.sfn_wait_secs, null), 30)

  lambda = {
    log_level                = coalesce(try(local.config.lambda_config.log_level, null), "info")
    log_retention_days       = coalesce(try(local.config.lambda_config.log_retention_days, null), 14)
    memory                   = coalesce(try(local.config.lambda_config.memory, null), 128)
    timeout                  = coalesce(try(local.config.lambda_config.timeout, null), 60)
    alarms_enabled           = coalesce(try(local.config.lambda_config.alarms_enabled, null), true)
    error_threshold          = coalesce(try(local.config.lambda_config.error_threshold, null), 1)
    error_period_secs        = coalesce(try(local.config.lambda_config.error_period_secs, null), 3600)
    error_evaluation_periods = coalesce(try(local.config.lambda_config.error_evaluation_periods, null), 2)
  }

  # Both spellings again: destination_kinesis_stream and destination_kinesis.
  stream_name = try(coalesce(var.kinesis_stream_name,
    try(local.config.config.destination_kinesis_stream, null),
  try(local.config.config.destination_kinesis, null)), null)

  athena_database  = try(coalesce(var.athena_database, try(local.config.athena.database, null)), null)
  athena_workgroup = coalesce(try(local.config.athena.workgroup, null), "primary")
  # The results bucket, as the function picks it: the bucket of an explicit
  # athena.output_location, else the variable, else athena.results_bucket.
  results_bucket = try(coalesce(
    try(regex("^s3://([^/]+)", local.config.athena.output_location)[0], null),
    var.athena_results_bucket,
  try(local.config.athena.results_bucket, null)), null)

  name       = "${var.prefix}_streamquery"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
}
