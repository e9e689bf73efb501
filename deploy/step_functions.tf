# The state machine, in the shape of the original's job poller: run a pass,
# check whether it is done, wait, run again; Done or FatalError at the end.
# state_machine.json.tpl is the one definition; the specs render the same
# file with the sample configuration.

resource "aws_sfn_state_machine" "streamquery" {
  name     = local.name
  role_arn = aws_iam_role.state_machine.arn
  tags     = var.tags

  definition = templatefile("${path.module}/state_machine.json.tpl", {
    function_arn     = aws_lambda_function.streamquery.arn
    sfn_timeout_secs = local.sfn_timeout_secs
    sfn_wait_secs    = local.sfn_wait_secs
  })

  depends_on = [aws_iam_role_policy.state_machine]
}
