-- A principal probing what it may do: ten or more denied calls in an hour
-- from one address (stolen keys being tried, or a broken deployment).
query {
  name = "access_denied_bursts",
  description = "Principals with 10 or more AccessDenied or UnauthorizedOperation errors "
    .. "from one source IP in an hour",
  tags = { "hourly" },
  params = { "utcdatehour_minus1hour" },
  query = [[
SELECT useridentity.arn AS arn, sourceipaddress, count(*) AS denied,
  count(DISTINCT eventname) AS distinct_actions,
  min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "streamalert"."cloudtrail"
WHERE dt = '{utcdatehour_minus1hour}'
  AND errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation',
                    'Client.UnauthorizedOperation')
GROUP BY useridentity.arn, sourceipaddress
HAVING count(*) >= 10
ORDER BY denied DESC, arn, sourceipaddress
]],
}
