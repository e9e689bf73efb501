{
  "Comment": "StreamQuery: run a pass of the pack's queries, wait, and run again until the function says it is done.",
  "StartAt": "RunQueries",
  "TimeoutSeconds": ${sfn_timeout_secs},
  "States": {
    "RunQueries": {
      "Type": "Task",
      "Comment": "One pass. The function gets the execution id (for idempotent query starts) and the event: the first event, or the previous pass's response.",
      "Resource": "${function_arn}",
      "Parameters": {
        "execution_id.$": "$$.Execution.Id",
        "event.$": "$"
      },
      "Retry": [
        {
          "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.ClientExecutionTimeoutException"
          ],
          "IntervalSeconds": 2,
          "MaxAttempts": 6,
          "BackoffRate": 2
        },
        {
          "ErrorEquals": ["Lambda.TooManyRequestsException"],
          "IntervalSeconds": 5,
          "MaxAttempts": 8,
          "BackoffRate": 2
        }
      ],
      "Catch": [
        {
          "ErrorEquals": ["States.ALL"],
          "ResultPath": "$.error",
          "Next": "FatalError"
        }
      ],
      "Next": "CheckIfDone"
    },
    "CheckIfDone": {
      "Type": "Choice",
      "Choices": [
        {
          "Variable": "$.done",
          "NumericEquals": 1,
          "Next": "Done"
        }
      ],
      "Default": "WaitForQueries"
    },
    "WaitForQueries": {
      "Type": "Wait",
      "Seconds": ${sfn_wait_secs},
      "Next": "RunQueries"
    },
    "Done": {
      "Type": "Succeed"
    },
    "FatalError": {
      "Type": "Fail",
      "Comment": "The pass failed and was not retried: the error and cause are the function's.",
      "ErrorPath": "$.error.Error",
      "CausePath": "$.error.Cause"
    }
  }
}
