-- Anything done with the root user's own credentials (as the CIS benchmark
-- filter defines it: not on behalf of a service, not a service event).
query {
  name = "root_account_activity",
  description = "Calls made with the root account in the previous hour",
  tags = { "hourly" },
  params = { "utcdatehour_minus1hour" },
  query = [[
SELECT eventsource, eventname, sourceipaddress, awsregion, count(*) AS calls,
  min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "streamalert"."cloudtrail"
WHERE dt = '{utcdatehour_minus1hour}'
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND eventtype <> 'AwsServiceEvent'
GROUP BY eventsource, eventname, sourceipaddress, awsregion
ORDER BY first_seen, eventsource, eventname
]],
}
