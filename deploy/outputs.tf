output "state_machine_arn" {
  description = "ARN of the state machine: start an ad hoc run or a replay with it (the README, section Deploying)."
  value       = aws_sfn_state_machine.streamquery.arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.streamquery.function_name
}

output "log_group_name" {
  description = "Log group of the function: one JSON object per line."
  value       = aws_cloudwatch_log_group.function.name
}

output "rules" {
  description = "EventBridge rule name of each query pack."
  value       = { for pack, rule in aws_cloudwatch_event_rule.pack : pack => rule.name }
}
