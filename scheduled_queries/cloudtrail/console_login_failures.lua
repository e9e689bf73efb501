-- Password guessing against the console: five or more failed sign-ins for
-- one user name from one address within an hour.
query {
  name = "console_login_failures",
  description = "Users with 5 or more failed console logins from one source IP in an hour",
  tags = { "hourly" },
  params = { "utcdatehour_minus1hour" },
  query = [[
SELECT useridentity.username AS username, sourceipaddress, count(*) AS failures,
  min(eventtime) AS first_failure, max(eventtime) AS last_failure
FROM "streamalert"."cloudtrail"
WHERE dt = '{utcdatehour_minus1hour}'
  AND eventsource = 'signin.amazonaws.com'
  AND eventname = 'ConsoleLogin'
  AND errormessage = 'Failed authentication'
GROUP BY useridentity.username, sourceipaddress
HAVING count(*) >= 5
ORDER BY failures DESC, username, sourceipaddress
]],
}
