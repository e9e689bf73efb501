# One EventBridge rule per query pack. Its target starts an execution with
# the first event of the Step Functions contract (DESIGN.md):
#   {"name": "streamalert_scheduled_queries_cloudwatch_trigger",
#    "event_id": <the event's id>, "source_arn": <the rule's ARN>,
#    "streamquery_configuration": {"clock": <the event's time>,
#                                  "tags": [<the pack's name>]}}
# EventBridge writes the event time as YYYY-MM-DDTHH:MM:SSZ, the clock's
# own format. A quoted placeholder is replaced by the bare string value.

resource "aws_cloudwatch_event_rule" "pack" {
  for_each = local.packs

  name                = "${local.name}_${each.key}"
  description         = lookup(each.value, "description", "StreamQuery pack ${each.key}")
  schedule_expression = each.value.schedule_expression
  state               = local.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "pack" {
  for_each = local.packs

  rule      = aws_cloudwatch_event_rule.pack[each.key].name
  target_id = "streamquery"
  arn       = aws_sfn_state_machine.streamquery.arn
  role_arn  = aws_iam_role.events.arn

  input_transformer {
    input_paths = {
      clock    = "$.time"
      event_id = "$.id"
    }
    input_template = <<-TEMPLATE
      {"name": "streamalert_scheduled_queries_cloudwatch_trigger", "event_id": "<event_id>", "source_arn": "<aws.events.rule-arn>", "streamquery_configuration": {"clock": "<clock>", "tags": ${jsonencode([each.key])}}}
    TEMPLATE
  }
}
