-- Long-lived access keys created over the last 24 hours, per creator: a
-- common way to keep access after a compromise.
query {
  name = "new_access_keys",
  description = "IAM access keys created in the last 24 hours, per creating principal",
  tags = { "daily" },
  params = { "utcdatehour_minus1day", "utcdatehour_minus1hour" },
  query = [[
SELECT useridentity.arn AS arn, sourceipaddress, count(*) AS keys_created,
  min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "streamalert"."cloudtrail"
WHERE dt BETWEEN '{utcdatehour_minus1day}' AND '{utcdatehour_minus1hour}'
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'CreateAccessKey'
  AND errorcode IS NULL
GROUP BY useridentity.arn, sourceipaddress
ORDER BY first_seen, arn
]],
}
