-- One principal reading many secrets over two days: collection before
-- exfiltration, or an application that should cache what it reads.
query {
  name = "secret_bulk_reads",
  description = "Principals that read Secrets Manager secrets 10 or more times in two days",
  tags = { "two_day" },
  params = { "utcdatehour_minus2day", "utcdatehour_minus1hour" },
  query = [[
SELECT useridentity.arn AS arn, count(*) AS reads, count(DISTINCT sourceipaddress) AS addresses,
  min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM "streamalert"."cloudtrail"
WHERE dt BETWEEN '{utcdatehour_minus2day}' AND '{utcdatehour_minus1hour}'
  AND eventsource = 'secretsmanager.amazonaws.com'
  AND eventname IN ('GetSecretValue', 'BatchGetSecretValue')
  AND errorcode IS NULL
GROUP BY useridentity.arn
HAVING count(*) >= 10
ORDER BY reads DESC, arn
]],
}
