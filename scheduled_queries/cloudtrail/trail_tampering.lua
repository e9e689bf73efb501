-- Attempts to blind CloudTrail, in the two whole hours before the clock.
-- CloudTrail files an event under the hour it was delivered, which can be
-- later than the hour it happened, so the partitions scanned reach up to
-- the clock's own hour and the event time picks the window exactly.
local HOUR = "%Y-%m-%dT%H:00:00Z"

query {
  name = "trail_tampering",
  description = "CloudTrail trails stopped, deleted or reconfigured in the two hours before "
    .. "the run",
  tags = { "two_hour" },
  params = {
    "utcdatehour_minus2hour",
    "utcdatehour",
    window_start = function(clock)
      return clock:add { hours = -2 }:format(HOUR)
    end,
    window_end = function(clock)
      return clock:format(HOUR)
    end,
  },
  query = [[
SELECT eventname, useridentity.arn AS arn, sourceipaddress, awsregion, errorcode,
  count(*) AS calls, min(eventtime) AS first_seen
FROM "streamalert"."cloudtrail"
WHERE dt BETWEEN '{utcdatehour_minus2hour}' AND '{utcdatehour}'
  AND eventtime >= '{window_start}' AND eventtime < '{window_end}'
  AND eventsource = 'cloudtrail.amazonaws.com'
  AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                    'PutInsightSelectors')
GROUP BY eventname, useridentity.arn, sourceipaddress, awsregion, errorcode
ORDER BY first_seen, eventname, arn
]],
}
