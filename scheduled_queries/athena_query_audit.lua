-- The sample query of StreamAlert's scheduled queries, in Lua: every Athena
-- query started in the previous hour, with who started it and from where.
query {
  name = "athena_query_audit",
  description = "Athena StartQueryExecution calls in the previous hour",
  tags = { "hourly" },
  params = { "utcdatehour_minus1hour" },
  query = [[
SELECT eventtime, useridentity.arn AS arn, sourceipaddress, awsregion, errorcode
FROM "streamalert"."cloudtrail"
WHERE dt = '{utcdatehour_minus1hour}'
  AND eventsource = 'athena.amazonaws.com'
  AND eventname = 'StartQueryExecution'
ORDER BY eventtime, arn
]],
}
