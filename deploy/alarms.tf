# Alarms, when lambda_config.alarms_enabled is true: errors of the function
# (threshold, period and evaluation periods from lambda_config), and any
# execution of the state machine that failed or timed out.

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  count = local.lambda.alarms_enabled ? 1 : 0

  alarm_name          = "${local.name}_function_errors"
  alarm_description   = "The StreamQuery function reported errors: see its log group ${aws_cloudwatch_log_group.function.name}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.streamquery.function_name }
  statistic           = "Sum"
  period              = local.lambda.error_period_secs
  evaluation_periods  = local.lambda.error_evaluation_periods
  threshold           = local.lambda.error_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  count = local.lambda.alarms_enabled ? 1 : 0

  alarm_name          = "${local.name}_executions_failed"
  alarm_description   = "A StreamQuery execution failed or timed out: replay it from the Step Functions console (the README, section Deploying)."
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "failed_or_timed_out"
    expression  = "FILL(failed, 0) + FILL(timed_out, 0)"
    label       = "Executions failed or timed out"
    return_data = true
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = "AWS/States"
      metric_name = "ExecutionsFailed"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.streamquery.arn }
      stat        = "Sum"
      period      = local.lambda.error_period_secs
    }
  }

  metric_query {
    id = "timed_out"
    metric {
      namespace   = "AWS/States"
      metric_name = "ExecutionsTimedOut"
      dimensions  = { StateMachineArn = aws_sfn_state_machine.streamquery.arn }
      stat        = "Sum"
      period      = local.lambda.error_period_secs
    }
  }
}
