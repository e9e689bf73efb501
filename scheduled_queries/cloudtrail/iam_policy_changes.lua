-- Who changed IAM users, groups, roles or policies over the last 24 hours:
-- the partitions from 24 hours back up to the last full hour.
query {
  name = "iam_policy_changes",
  description = "Successful IAM policy, user and role changes in the last 24 hours, per "
    .. "principal and action",
  tags = { "daily" },
  params = { "utcdatehour_minus1day", "utcdatehour_minus1hour" },
  query = [[
SELECT useridentity.arn AS arn, eventname, sourceipaddress, count(*) AS changes,
  min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "streamalert"."cloudtrail"
WHERE dt BETWEEN '{utcdatehour_minus1day}' AND '{utcdatehour_minus1hour}'
  AND eventsource = 'iam.amazonaws.com'
  AND eventname IN ('AttachUserPolicy', 'AttachGroupPolicy', 'AttachRolePolicy',
                    'DetachUserPolicy', 'DetachGroupPolicy', 'DetachRolePolicy',
                    'PutUserPolicy', 'PutGroupPolicy', 'PutRolePolicy',
                    'DeleteUserPolicy', 'DeleteGroupPolicy', 'DeleteRolePolicy',
                    'CreatePolicy', 'CreatePolicyVersion', 'SetDefaultPolicyVersion',
                    'DeletePolicy', 'CreateUser', 'DeleteUser', 'AddUserToGroup',
                    'CreateLoginProfile', 'UpdateLoginProfile', 'CreateRole',
                    'UpdateAssumeRolePolicy')
  AND errorcode IS NULL
GROUP BY useridentity.arn, eventname, sourceipaddress
ORDER BY first_seen, arn, eventname
]],
}
