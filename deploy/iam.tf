# Roles with least privilege: the function runs queries in one workgroup,
# reads one Glue database and the data buckets, writes Athena results to one
# bucket and records to one stream; Step Functions invokes the function;
# EventBridge starts executions of the state machine.

locals {
  workgroup_arn    = "arn:${local.partition}:athena:${local.region}:${local.account_id}:workgroup/${local.athena_workgroup}"
  glue_arn_prefix  = "arn:${local.partition}:glue:${local.region}:${local.account_id}"
  stream_arn       = "arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${local.stream_name}"
  results_arn      = "arn:${local.partition}:s3:::${local.results_bucket}"
  data_bucket_arns = [for bucket in var.data_buckets : "arn:${local.partition}:s3:::${bucket}"]
}

# Who may take each role.
data "aws_iam_policy_document" "assume" {
  for_each = {
    function      = "lambda.amazonaws.com"
    state_machine = "states.amazonaws.com"
    events        = "events.amazonaws.com"
  }

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${local.name}_function"
  assume_role_policy = data.aws_iam_policy_document.assume["function"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  statement {
    sid = "RunQueries"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:BatchGetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
    ]
    resources = [local.workgroup_arn]
  }

  statement {
    sid = "ReadCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = [
      "${local.glue_arn_prefix}:catalog",
      "${local.glue_arn_prefix}:database/${local.athena_database}",
      "${local.glue_arn_prefix}:table/${local.athena_database}/*",
    ]
  }

  statement {
    sid       = "ResultsBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.results_arn]
  }

  statement {
    sid       = "ResultsObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${local.results_arn}/*"]
  }

  dynamic "statement" {
    for_each = length(local.data_bucket_arns) > 0 ? [1] : []
    content {
      sid       = "DataBuckets"
      actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
      resources = local.data_bucket_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.data_bucket_arns) > 0 ? [1] : []
    content {
      sid       = "DataObjects"
      actions   = ["s3:GetObject"]
      resources = [for arn in local.data_bucket_arns : "${arn}/*"]
    }
  }

  statement {
    sid       = "SendResults"
    actions   = ["kinesis:PutRecords"]
    resources = [local.stream_arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "UseKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "streamquery"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_iam_role" "state_machine" {
  name               = "${local.name}_state_machine"
  assume_role_policy = data.aws_iam_policy_document.assume["state_machine"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "InvokeFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.streamquery.arn, "${aws_lambda_function.streamquery.arn}:*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "streamquery"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_iam_role" "events" {
  name               = "${local.name}_events"
  assume_role_policy = data.aws_iam_policy_document.assume["events"].json
  tags               = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartExecution"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.streamquery.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "streamquery"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}
