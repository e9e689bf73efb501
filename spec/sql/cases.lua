-- The Athena constructs of detection queries, most used first: each with its query over
-- spec/sql/fixtures, the SQLite text it translates to, and the rows Athena returns.
-- Tables: cloudtrail (AWS's DDL, 7 records over dt=2020-02-13-20..22), sa_cloudtrail
-- (the same records, StreamAlert's schema) and metrics (typed columns, year/month/day).
-- The clock is 2020-02-13T22:06:20Z.
return {
  {
    it = "reads struct fields with a path (useridentity.arn)",
    sql = [[SELECT eventname, useridentity.arn FROM cloudtrail WHERE dt = '2020-02-13-21'
ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", ]],
      [[json_extract("cloudtrail"."useridentity", '$.arn') AS "arn" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE "cloudtrail"."dt" = '2020-02-13-21' ORDER BY ]],
      [["cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = {
      { "GetBucketPolicy", "arn:aws:sts::123456789012:assumed-role/ci-deploy/build-7" },
      { "AssumeRole", "NULL" },
      { "ConsoleLogin", "arn:aws:iam::123456789012:root" },
      { "AttachUserPolicy", "arn:aws:iam::123456789012:user/alice" },
    },
  },
  {
    it = "reads nested struct paths in one JSON path",
    sql = [[SELECT useridentity.sessioncontext.sessionissuer.username AS issuer,
  useridentity.sessioncontext.attributes.mfaauthenticated AS mfa
FROM cloudtrail WHERE useridentity.type = 'AssumedRole' ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT json_extract("cloudtrail"."useridentity", ]],
      [['$.sessioncontext.sessionissuer.username') AS "issuer", ]],
      [[json_extract("cloudtrail"."useridentity", ]],
      [['$.sessioncontext.attributes.mfaauthenticated') AS "mfa" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE json_extract("cloudtrail"."useridentity", '$.type') = ]],
      [['AssumedRole' ORDER BY "cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = { { "ci-deploy", "false" }, { "ci-deploy", "false" } },
  },
  {
    it = "reads struct fields of UNNESTed elements",
    sql = [[SELECT eventname, r.arn, r.type FROM cloudtrail CROSS JOIN UNNEST(resources) AS t(r)
ORDER BY eventtime, r.arn]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", json_extract("t".value, '$.arn') AS ]],
      [["arn", json_extract("t".value, '$.type') AS "type" FROM "cloudtrail" AS "cloudtrail" ]],
      [[CROSS JOIN json_each("cloudtrail"."resources") AS "t" ORDER BY ]],
      [["cloudtrail"."eventtime" NULLS LAST, 2 NULLS LAST]],
    },
    rows = {
      { "GetBucketPolicy", "arn:aws:s3:::logs", "AWS::S3::Bucket" },
      { "AssumeRole", "arn:aws:iam::123456789012:role/fn", "AWS::IAM::Role" },
      { "AssumeRole", "arn:aws:kms:us-east-1:123456789012:key/k1", "AWS::KMS::Key" },
    },
  },
  {
    it = "filters on the dt partition",
    sql = [[SELECT dt, count(*) AS events FROM cloudtrail
WHERE dt BETWEEN '2020-02-13-20' AND '2020-02-13-21' GROUP BY dt ORDER BY dt]],
    translated = table.concat {
      [[SELECT "cloudtrail"."dt" AS "dt", count(*) AS "events" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE "cloudtrail"."dt" BETWEEN '2020-02-13-20' AND '2020-02-13-21' ]],
      [[GROUP BY "cloudtrail"."dt" ORDER BY 1 NULLS LAST]],
    },
    rows = { { "2020-02-13-20", "1" }, { "2020-02-13-21", "4" } },
  },
  {
    it = "filters on year, month and day partitions",
    sql = [[SELECT name, year, month, day FROM metrics
WHERE year = '2020' AND month = '02' AND day = '14']],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", "metrics"."year" AS "year", "metrics"."month" AS ]],
      [["month", "metrics"."day" AS "day" FROM "metrics" AS "metrics" WHERE ]],
      [[(("metrics"."year" = '2020') AND ("metrics"."month" = '02')) AND ("metrics"."day" = ]],
      [['14')]],
    },
    rows = { { "d", "2020", "02", "14" } },
  },
  {
    it = "takes quoted database, table and column names, in any case",
    sql = [[SELECT "eventName", "UserIdentity"."userName" FROM "security"."CloudTrail"
WHERE "eventSource" = 'iam.amazonaws.com' ORDER BY 1]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", ]],
      [[json_extract("cloudtrail"."useridentity", '$.username') AS "username" FROM ]],
      [["cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventsource" = 'iam.amazonaws.com' ]],
      [[ORDER BY 1 NULLS LAST]],
    },
    rows = { { "AttachUserPolicy", "alice" }, { "CreateUser", "alice" } },
  },
  {
    it = "takes now(), current_timestamp and current_date from the execution clock",
    sql = [[SELECT now(), current_timestamp, current_date]],
    translated = table.concat {
      [[SELECT '2020-02-13 22:06:20.000' AS "_col0", '2020-02-13 22:06:20.000' AS "_col1", ]],
      [['2020-02-13' AS "_col2"]],
    },
    rows = { { "2020-02-13 22:06:20.000 UTC", "2020-02-13 22:06:20.000 UTC", "2020-02-13" } },
  },
  {
    it = "does INTERVAL arithmetic on timestamps",
    sql = [[SELECT eventname FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) > now() - INTERVAL '1' HOUR
  AND from_iso8601_timestamp(eventtime) <= current_timestamp - interval '5' minute
ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname" FROM "cloudtrail" AS "cloudtrail" ]],
      [[WHERE (sq_cast_ts("cloudtrail"."eventtime", 3) > sq_ts_add('hour', -1, '2020-02-13 ]],
      [[22:06:20.000')) AND (sq_cast_ts("cloudtrail"."eventtime", 3) <= sq_ts_add('minute', ]],
      [[-5, '2020-02-13 22:06:20.000')) ORDER BY "cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = { { "AssumeRole" }, { "ConsoleLogin" }, { "AttachUserPolicy" },
             { "DescribeInstances" } },
  },
  {
    it = "adds day, month and second intervals and shows them",
    sql = [[SELECT TIMESTAMP '2020-01-31 10:00:00' + INTERVAL '1' MONTH,
  DATE '2020-02-28' + INTERVAL '2' DAY, TIMESTAMP '2020-02-13 22:06:20' - INTERVAL '90' SECOND,
  INTERVAL '1' HOUR, INTERVAL '2' DAY]],
    translated = table.concat {
      [[SELECT sq_ts_add('month', 1, '2020-01-31 10:00:00.000') AS "_col0", sq_ts_add('day', ]],
      [[2, '2020-02-28') AS "_col1", sq_ts_add('second', -90, '2020-02-13 22:06:20.000') AS ]],
      [["_col2", 3600000 AS "_col3", 172800000 AS "_col4"]],
    },
    rows = { { "2020-02-29 10:00:00.000", "2020-03-01", "2020-02-13 22:04:50.000",
               "0 01:00:00.000", "2 00:00:00.000" } },
  },
  {
    it = "unnests arrays with CROSS JOIN UNNEST ... AS t(x), and with ordinality",
    sql = [[SELECT name, tag, n FROM metrics CROSS JOIN UNNEST(tags) WITH ORDINALITY AS t(tag, n)
ORDER BY name, n]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", "t".value AS "tag", ("t".key + 1) AS "n" FROM ]],
      [["metrics" AS "metrics" CROSS JOIN json_each("metrics"."tags") AS "t" ORDER BY 1 NULLS ]],
      [[LAST, 3 NULLS LAST]],
    },
    rows = { { "A", "y", "1" }, { "a", "x", "1" }, { "a", "y", "2" }, { "d", "z", "1" } },
  },
  {
    it = "unnests an array of rows into one column per field",
    sql = [[SELECT eventname, arn, type FROM cloudtrail
CROSS JOIN UNNEST(resources) AS r(arn, accountid, type) WHERE type LIKE 'AWS::IAM::%']],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", json_extract("r".value, '$.arn') AS ]],
      [["arn", json_extract("r".value, '$.type') AS "type" FROM "cloudtrail" AS "cloudtrail" ]],
      [[CROSS JOIN json_each("cloudtrail"."resources") AS "r" WHERE json_extract("r".value, ]],
      [['$.type') LIKE 'AWS::IAM::%']],
    },
    rows = { { "AssumeRole", "arn:aws:iam::123456789012:role/fn", "AWS::IAM::Role" } },
  },
  {
    it = "subscripts maps by key and arrays from 1",
    sql = [[SELECT requestparameters['bucketName'] AS bucket, resources[1] AS first,
  useridentity['sessionContext'] IS NOT NULL AS has_session
FROM sa_cloudtrail WHERE eventname = 'GetBucketPolicy']],
    translated = table.concat {
      [[SELECT json_extract("sa_cloudtrail"."requestparameters", '$.bucketName') AS "bucket", ]],
      [[json_extract("sa_cloudtrail"."resources", '$[0]') AS "first", ]],
      [[(json_extract("sa_cloudtrail"."useridentity", '$.sessionContext') IS NOT NULL) AS ]],
      [["has_session" FROM "sa_cloudtrail" AS "sa_cloudtrail" WHERE ]],
      [["sa_cloudtrail"."eventname" = 'GetBucketPolicy']],
    },
    rows = { { "logs", '{"ARN":"arn:aws:s3:::logs","accountId":"123456789012",'
      .. '"type":"AWS::S3::Bucket"}', "true" } },
  },
  {
    it = "subscripts an array of rows and reads a field of the element",
    sql = [[SELECT resources[2].arn FROM cloudtrail WHERE eventname = 'AssumeRole']],
    translated = table.concat {
      [[SELECT json_extract(json_extract("cloudtrail"."resources", '$[1]'), '$.arn') AS "arn" ]],
      [[FROM "cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventname" = 'AssumeRole']],
    },
    rows = { { "arn:aws:kms:us-east-1:123456789012:key/k1" } },
  },
  {
    it = "reads JSON strings with json_extract_scalar and json_extract",
    sql = [[SELECT json_extract_scalar(requestparameters, '$.roleSessionName') AS session,
  json_extract_scalar(requestparameters, '$.durationSeconds') AS seconds,
  json_extract(requestparameters, '$.roleArn') AS role,
  json_extract_scalar(requestparameters, '$.missing') AS missing
FROM cloudtrail WHERE eventname = 'AssumeRole']],
    translated = table.concat {
      [[SELECT sq_json_scalar("cloudtrail"."requestparameters", '$.roleSessionName') AS ]],
      [["session", sq_json_scalar("cloudtrail"."requestparameters", '$.durationSeconds') AS ]],
      [["seconds", sq_json_extract("cloudtrail"."requestparameters", '$.roleArn') AS "role", ]],
      [[sq_json_scalar("cloudtrail"."requestparameters", '$.missing') AS "missing" FROM ]],
      [["cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventname" = 'AssumeRole']],
    },
    rows = { { "fn", "900", '"arn:aws:iam::123456789012:role/fn"', "NULL" } },
  },
  {
    it = "measures and indexes arrays (cardinality, element_at, contains)",
    sql = [[SELECT name, cardinality(tags), element_at(tags, 1), element_at(tags, -1),
  contains(tags, 'y') FROM metrics ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", json_array_length("metrics"."tags") AS "_col1", ]],
      [[json_extract("metrics"."tags", '$[0]') AS "_col2", json_extract("metrics"."tags", ]],
      [['$[#-1]') AS "_col3", CASE WHEN "metrics"."tags" IS NULL THEN NULL ELSE (SELECT ]],
      [[CASE WHEN max("_e".value = 'y') THEN 1 WHEN max(("_e".value = 'y') IS NULL) THEN ]],
      [[NULL ELSE 0 END FROM json_each("metrics"."tags") AS "_e") END AS "_col4" FROM ]],
      [["metrics" AS "metrics" ORDER BY 1 NULLS LAST]],
    },
    rows = {
      { "A", "1", "y", "y", "true" },
      { "a", "2", "x", "y", "true" },
      { "b", "0", "NULL", "NULL", "false" },
      { "c", "NULL", "NULL", "NULL", "NULL" },
      { "d", "1", "z", "z", "false" },
    },
  },
  {
    it = "applies lambdas with transform, filter and any_match",
    sql = [[SELECT name, transform(tags, x -> upper(x)) AS up,
  filter(tags, x -> x <> 'x') AS kept, any_match(tags, x -> x LIKE 'z%') AS has_z
FROM metrics WHERE tags IS NOT NULL ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", CASE WHEN "metrics"."tags" IS NULL THEN NULL ]],
      [[ELSE (SELECT json_group_array(upper("_l1".value)) FROM json_each("metrics"."tags") ]],
      [[AS "_l1") END AS "up", CASE WHEN "metrics"."tags" IS NULL THEN NULL ELSE (SELECT ]],
      [[json_group_array("_l2".value) FROM json_each("metrics"."tags") AS "_l2" WHERE ]],
      [["_l2".value <> 'x') END AS "kept", CASE WHEN "metrics"."tags" IS NULL THEN NULL ]],
      [[ELSE (SELECT CASE WHEN max("_l3".value LIKE 'z%') THEN 1 WHEN max(("_l3".value LIKE ]],
      [['z%') IS NULL) THEN NULL ELSE 0 END FROM json_each("metrics"."tags") AS "_l3") END ]],
      [[AS "has_z" FROM "metrics" AS "metrics" WHERE "metrics"."tags" IS NOT NULL ORDER BY ]],
      [[1 NULLS LAST]],
    },
    rows = {
      { "A", "[Y]", "[y]", "false" },
      { "a", "[X, Y]", "[y]", "false" },
      { "b", "[]", "[]", "false" },
      { "d", "[Z]", "[z]", "true" },
    },
  },
  {
    it = "compares arrays as sets (arrays_overlap, array_intersect, array_except, array_union)",
    sql = [[SELECT name, arrays_overlap(tags, ARRAY['y', 'z']) AS overlap,
  array_intersect(tags, ARRAY['y', 'x', 'x']) AS common, array_except(tags, ARRAY['x']) AS rest,
  array_union(tags, ARRAY['z', 'x']) AS all_tags
FROM metrics ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", CASE WHEN "metrics"."tags" IS NULL OR ]],
      [[json_array('y', 'z') IS NULL THEN NULL ELSE EXISTS (SELECT 1 FROM ]],
      [[json_each("metrics"."tags") AS "_f" JOIN json_each(json_array('y', 'z')) AS "_s" ON ]],
      [["_f".value = "_s".value) END AS "overlap", CASE WHEN "metrics"."tags" IS NULL OR ]],
      [[json_array('y', 'x', 'x') IS NULL THEN NULL ELSE (SELECT json_group_array(v) FROM ]],
      [[(SELECT "_f".value AS v, min("_f".key) AS k FROM json_each("metrics"."tags") AS "_f" ]],
      [[WHERE EXISTS (SELECT 1 FROM json_each(json_array('y', 'x', 'x')) AS "_s" WHERE ]],
      [["_s".value = "_f".value) GROUP BY "_f".value ORDER BY k)) END AS "common", CASE WHEN ]],
      [["metrics"."tags" IS NULL OR json_array('x') IS NULL THEN NULL ELSE (SELECT ]],
      [[json_group_array(v) FROM (SELECT "_f".value AS v, min("_f".key) AS k FROM ]],
      [[json_each("metrics"."tags") AS "_f" WHERE NOT EXISTS (SELECT 1 FROM ]],
      [[json_each(json_array('x')) AS "_s" WHERE "_s".value IS "_f".value) GROUP BY ]],
      [["_f".value ORDER BY k)) END AS "rest", CASE WHEN CASE WHEN "metrics"."tags" IS NULL ]],
      [[OR json_array('z', 'x') IS NULL THEN NULL ELSE (SELECT json_group_array(v) FROM ]],
      [[(SELECT 1 AS part, _c1.key AS k, _c1.value AS v FROM json_each("metrics"."tags") AS ]],
      [[_c1 UNION ALL SELECT 2 AS part, _c2.key AS k, _c2.value AS v FROM ]],
      [[json_each(json_array('z', 'x')) AS _c2 ORDER BY part, k)) END IS NULL OR CASE WHEN ]],
      [["metrics"."tags" IS NULL OR json_array('z', 'x') IS NULL THEN NULL ELSE (SELECT ]],
      [[json_group_array(v) FROM (SELECT 1 AS part, _c1.key AS k, _c1.value AS v FROM ]],
      [[json_each("metrics"."tags") AS _c1 UNION ALL SELECT 2 AS part, _c2.key AS k, ]],
      [[_c2.value AS v FROM json_each(json_array('z', 'x')) AS _c2 ORDER BY part, k)) END IS ]],
      [[NULL THEN NULL ELSE (SELECT json_group_array(v) FROM (SELECT "_f".value AS v, ]],
      [[min("_f".key) AS k FROM json_each(CASE WHEN "metrics"."tags" IS NULL OR ]],
      [[json_array('z', 'x') IS NULL THEN NULL ELSE (SELECT json_group_array(v) FROM (SELECT ]],
      [[1 AS part, _c1.key AS k, _c1.value AS v FROM json_each("metrics"."tags") AS _c1 UNION ]],
      [[ALL SELECT 2 AS part, _c2.key AS k, _c2.value AS v FROM json_each(json_array('z', ]],
      [['x')) AS _c2 ORDER BY part, k)) END) AS "_f" WHERE 1 GROUP BY "_f".value ORDER BY k)) ]],
      [[END AS "all_tags" FROM "metrics" AS "metrics" ORDER BY 1 NULLS LAST]],
    },
    rows = {
      { "A", "true", "[y]", "[y]", "[y, z, x]" },
      { "a", "true", "[x, y]", "[y]", "[x, y, z]" },
      { "b", "false", "[]", "[]", "[z, x]" },
      { "c", "NULL", "NULL", "NULL", "NULL" },
      { "d", "true", "[]", "[z]", "[z, x]" },
    },
  },
  {
    it = "collects values with array_agg and splits strings with split",
    sql = [[SELECT eventsource, array_agg(eventname) AS names, split(eventsource, '.') AS parts
FROM cloudtrail WHERE eventsource IN ('iam.amazonaws.com', 'sts.amazonaws.com')
GROUP BY eventsource ORDER BY eventsource]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventsource" AS "eventsource", ]],
      [[nullif(json_group_array("cloudtrail"."eventname"), '[]') AS "names", ]],
      [[sq_split("cloudtrail"."eventsource", '.') AS "parts" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE "cloudtrail"."eventsource" IN ('iam.amazonaws.com', ]],
      [['sts.amazonaws.com') GROUP BY "cloudtrail"."eventsource" ORDER BY 1 NULLS LAST]],
    },
    rows = {
      { "iam.amazonaws.com", "[CreateUser, AttachUserPolicy]", "[iam, amazonaws, com]" },
      { "sts.amazonaws.com", "[AssumeRole]", "[sts, amazonaws, com]" },
    },
  },
  {
    it = "converts ISO 8601 and Unix times (from_iso8601_timestamp, to_iso8601, from_unixtime, "
      .. "to_unixtime)",
    sql = [[SELECT from_iso8601_timestamp(eventtime) AS t,
  to_iso8601(from_iso8601_timestamp(eventtime)) AS iso,
  to_unixtime(from_iso8601_timestamp(eventtime)) AS unix,
  from_unixtime(1581631580) AS back
FROM cloudtrail WHERE eventname = 'CreateUser']],
    translated = table.concat {
      [[SELECT sq_cast_ts("cloudtrail"."eventtime", 3) AS "t", ]],
      [[sq_to_iso8601(sq_cast_ts("cloudtrail"."eventtime", 3), 1) AS "iso", ]],
      [[sq_to_unixtime(sq_cast_ts("cloudtrail"."eventtime", 3)) AS "unix", ]],
      [[sq_from_unixtime(1581631580) AS "back" FROM "cloudtrail" AS "cloudtrail" WHERE ]],
      [["cloudtrail"."eventname" = 'CreateUser']],
    },
    rows = { { "2020-02-13 20:15:00.000 UTC", "2020-02-13T20:15:00.000Z", "1.5816249E9",
               "2020-02-13 22:06:20.000 UTC" } },
  },
  {
    it = "parses and formats dates (date_parse, date_format, format_datetime)",
    sql = [[SELECT date_parse('13/02/2020 21:05', '%d/%m/%Y %H:%i') AS parsed,
  date_format(from_iso8601_timestamp(eventtime), '%Y-%m-%d-%H') AS hour,
  format_datetime(from_iso8601_timestamp(eventtime), 'yyyy-MM-dd HH:mm:ss EEE') AS formatted
FROM cloudtrail WHERE eventname = 'GetBucketPolicy']],
    translated = table.concat {
      [[SELECT sq_date_parse('13/02/2020 21:05', '%d/%m/%Y %H:%i') AS "parsed", ]],
      [[sq_date_format(sq_cast_ts("cloudtrail"."eventtime", 3), '%Y-%m-%d-%H') AS "hour", ]],
      [[sq_format_datetime(sq_cast_ts("cloudtrail"."eventtime", 3), 'yyyy-MM-dd HH:mm:ss ]],
      [[EEE') AS "formatted" FROM "cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventname" ]],
      [[= 'GetBucketPolicy']],
    },
    rows = { { "2020-02-13 21:05:00.000", "2020-02-13-21", "2020-02-13 21:05:00 Thu" } },
  },
  {
    it = "truncates, subtracts and adds dates (date_trunc, date_diff, date_add)",
    sql = [[SELECT date_trunc('hour', at) AS hour, date_trunc('week', at) AS week,
  date_diff('minute', at, TIMESTAMP '2020-02-13 22:06:20') AS minutes,
  date_add('day', -1, at) AS day_before
FROM metrics WHERE name = 'b']],
    translated = table.concat {
      [[SELECT sq_ts_trunc('hour', "metrics"."at") AS "hour", sq_ts_trunc('week', ]],
      [["metrics"."at") AS "week", sq_ts_diff('minute', "metrics"."at", '2020-02-13 ]],
      [[22:06:20.000') AS "minutes", sq_ts_add('day', (-1), "metrics"."at") AS "day_before" ]],
      [[FROM "metrics" AS "metrics" WHERE "metrics"."name" = 'b']],
    },
    rows = { { "2020-02-13 21:00:00.000", "2020-02-10 00:00:00.000", "36",
               "2020-02-12 21:30:00.250" } },
  },
  {
    it = "matches regular expressions (regexp_like, regexp_extract)",
    sql = [[SELECT useridentity.arn AS arn,
  regexp_extract(useridentity.arn, ':(user|role)/(\w+)$', 2) AS name FROM cloudtrail
WHERE regexp_like(useridentity.arn, '^arn:aws:iam::\d{12}:user/') ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT json_extract("cloudtrail"."useridentity", '$.arn') AS "arn", ]],
      [[regexp_extract(json_extract("cloudtrail"."useridentity", '$.arn'), ]],
      [[':(user|role)/(\w+)$', 2) AS "name" FROM "cloudtrail" AS "cloudtrail" WHERE ]],
      [[regexp_like(json_extract("cloudtrail"."useridentity", '$.arn'), ]],
      [['^arn:aws:iam::\d{12}:user/') ORDER BY "cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = { { "arn:aws:iam::123456789012:user/alice", "alice" },
             { "arn:aws:iam::123456789012:user/alice", "alice" } },
  },
  {
    it = "counts with approx_distinct, count_if and COUNT(DISTINCT ...)",
    sql = [[SELECT approx_distinct(sourceipaddress) AS addresses,
  count_if(errorcode IS NOT NULL) AS errors, count(DISTINCT eventsource) AS sources,
  count(errorcode) AS with_code
FROM cloudtrail]],
    translated = table.concat {
      [[SELECT count(DISTINCT "cloudtrail"."sourceipaddress") AS "addresses", count(CASE WHEN ]],
      [["cloudtrail"."errorcode" IS NOT NULL THEN 1 END) AS "errors", count(DISTINCT ]],
      [["cloudtrail"."eventsource") AS "sources", count("cloudtrail"."errorcode") AS ]],
      [["with_code" FROM "cloudtrail" AS "cloudtrail"]],
    },
    rows = { { "4", "2", "5", "2" } },
  },
  {
    it = "computes approx_percentile",
    sql = [[SELECT approx_percentile(value, 0.5) AS median, approx_percentile(ratio, 0.9) AS p90
FROM metrics]],
    translated = table.concat {
      [[SELECT CAST(round(approx_percentile("metrics"."value", 0.5)) AS INTEGER) AS "median", ]],
      [[approx_percentile("metrics"."ratio", 0.9) AS "p90" FROM "metrics" AS "metrics"]],
    },
    rows = { { "2", "1.0E7" } },
  },
  {
    it = "cuts strings with split_part and finds them with strpos",
    sql = [[SELECT split_part(useridentity.arn, '/', 2) AS part, strpos(useridentity.arn, 'user/')
  AS at FROM cloudtrail WHERE eventname = 'CreateUser']],
    translated = table.concat {
      [[SELECT sq_split_part(json_extract("cloudtrail"."useridentity", '$.arn'), '/', 2) AS ]],
      [["part", instr(json_extract("cloudtrail"."useridentity", '$.arn'), 'user/') AS "at" ]],
      [[FROM "cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventname" = 'CreateUser']],
    },
    rows = { { "alice", "27" } },
  },
  {
    it = "casts with CAST and TRY_CAST (VARCHAR, BIGINT, DOUBLE, TIMESTAMP, DATE)",
    sql = [[SELECT CAST(value AS VARCHAR) AS v, CAST('42' AS BIGINT) AS b, CAST(2.5 AS BIGINT) AS r,
  CAST(value AS DOUBLE) AS d, CAST('2020-02-13 21:00:00' AS TIMESTAMP) AS ts,
  CAST(at AS DATE) AS day, TRY_CAST(name AS BIGINT) AS t, CAST(ratio AS VARCHAR) AS rv
FROM metrics WHERE name = 'a']],
    translated = table.concat {
      [[SELECT CAST("metrics"."value" AS TEXT) AS "v", sq_cast_bigint('42', 1) AS "b", ]],
      [[sq_cast_bigint(2.5, 1) AS "r", CAST("metrics"."value" AS REAL) AS "d", ]],
      [[sq_cast_ts('2020-02-13 21:00:00', 1) AS "ts", substr("metrics"."at", 1, 10) AS "day", ]],
      [[sq_cast_bigint("metrics"."name", 0) AS "t", sq_double_text("metrics"."ratio") AS "rv" ]],
      [[FROM "metrics" AS "metrics" WHERE "metrics"."name" = 'a']],
    },
    rows = { { "7", "42", "3", "7.0", "2020-02-13 21:00:00.000", "2020-02-13", "NULL", "0.5" } },
  },
  {
    it = "changes case and fills gaps (lower, upper, coalesce)",
    sql = [[SELECT lower(eventname), upper(awsregion), coalesce(errorcode, 'none')
FROM cloudtrail WHERE dt = '2020-02-13-20']],
    translated = table.concat {
      [[SELECT lower("cloudtrail"."eventname") AS "_col0", upper("cloudtrail"."awsregion") AS ]],
      [["_col1", coalesce("cloudtrail"."errorcode", 'none') AS "_col2" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE "cloudtrail"."dt" = '2020-02-13-20']],
    },
    rows = { { "createuser", "US-EAST-1", "none" } },
  },
  {
    it = "concatenates with concat and ||",
    sql = [[SELECT concat(eventsource, ':', eventname) AS action,
  eventsource || '/' || eventname AS path, 'x' || errorcode AS null_stays_null
FROM cloudtrail WHERE dt = '2020-02-13-20']],
    translated = table.concat {
      [[SELECT ("cloudtrail"."eventsource" || ':' || "cloudtrail"."eventname") AS "action", ]],
      [[(("cloudtrail"."eventsource" || '/') || "cloudtrail"."eventname") AS "path", ('x' || ]],
      [["cloudtrail"."errorcode") AS "null_stays_null" FROM "cloudtrail" AS "cloudtrail" ]],
      [[WHERE "cloudtrail"."dt" = '2020-02-13-20']],
    },
    rows = { { "iam.amazonaws.com:CreateUser", "iam.amazonaws.com/CreateUser", "NULL" } },
  },
  {
    it = "matches LIKE case-sensitively, with ESCAPE",
    sql = [[SELECT eventname LIKE 'create%' AS lower_case, eventname LIKE 'Create%' AS right_case,
  'a_b' LIKE 'a!_%' ESCAPE '!' AS escaped, 'axb' LIKE 'a!_%' ESCAPE '!' AS not_escaped
FROM cloudtrail WHERE dt = '2020-02-13-20']],
    translated = table.concat {
      [[SELECT ("cloudtrail"."eventname" LIKE 'create%') AS "lower_case", ]],
      [[("cloudtrail"."eventname" LIKE 'Create%') AS "right_case", ('a_b' LIKE 'a!_%' ESCAPE ]],
      [['!') AS "escaped", ('axb' LIKE 'a!_%' ESCAPE '!') AS "not_escaped" FROM "cloudtrail" ]],
      [[AS "cloudtrail" WHERE "cloudtrail"."dt" = '2020-02-13-20']],
    },
    rows = { { "false", "true", "true", "false" } },
  },
  {
    it = "tests membership and ranges (IN, NOT IN, BETWEEN)",
    sql = [[SELECT name FROM metrics WHERE value IN (7, 2, 3) AND name NOT IN ('d')
  AND at BETWEEN TIMESTAMP '2020-02-12 00:00:00' AND TIMESTAMP '2020-02-13 23:00:00'
ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name" FROM "metrics" AS "metrics" WHERE ]],
      [[(("metrics"."value" IN (7, 2, 3)) AND ("metrics"."name" NOT IN ('d'))) AND ]],
      [[("metrics"."at" BETWEEN '2020-02-12 00:00:00.000' AND '2020-02-13 23:00:00.000') ]],
      [[ORDER BY 1 NULLS LAST]],
    },
    rows = { { "A" }, { "a" } },
  },
  {
    it = "compares NULLs with IS DISTINCT FROM",
    sql = [[SELECT name FROM metrics WHERE ratio IS DISTINCT FROM 0.5 AND value IS NOT DISTINCT FROM
  value ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name" FROM "metrics" AS "metrics" WHERE ]],
      [[("metrics"."ratio" IS NOT 0.5) AND ("metrics"."value" IS "metrics"."value") ORDER BY ]],
      [[1 NULLS LAST]],
    },
    rows = { { "A" }, { "b" }, { "c" }, { "d" } },
  },
  {
    it = "chooses with CASE",
    sql = [[SELECT name, CASE WHEN value > 5 THEN 'high' WHEN value > 0 THEN 'low' ELSE 'other' END,
  CASE name WHEN 'a' THEN 1 WHEN 'b' THEN 2 END FROM metrics ORDER BY name]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", CASE WHEN "metrics"."value" > 5 THEN 'high' WHEN ]],
      [["metrics"."value" > 0 THEN 'low' ELSE 'other' END AS "_col1", CASE "metrics"."name" ]],
      [[WHEN 'a' THEN 1 WHEN 'b' THEN 2 END AS "_col2" FROM "metrics" AS "metrics" ORDER BY 1 ]],
      [[NULLS LAST]],
    },
    rows = { { "A", "low", "NULL" }, { "a", "high", "1" }, { "b", "other", "2" },
             { "c", "other", "NULL" }, { "d", "low", "NULL" } },
  },
  {
    it = "names sub-queries with WITH",
    sql = [[WITH denied AS (SELECT useridentity.arn AS arn, eventname FROM cloudtrail
  WHERE errorcode IS NOT NULL), counted AS (SELECT arn, count(*) AS n FROM denied GROUP BY arn)
SELECT * FROM counted]],
    translated = table.concat {
      [[WITH "denied" AS (SELECT json_extract("cloudtrail"."useridentity", '$.arn') AS "arn", ]],
      [["cloudtrail"."eventname" AS "eventname" FROM "cloudtrail" AS "cloudtrail" WHERE ]],
      [["cloudtrail"."errorcode" IS NOT NULL), "counted" AS (SELECT "denied"."arn" AS "arn", ]],
      [[count(*) AS "n" FROM "denied" AS "denied" GROUP BY "denied"."arn") SELECT ]],
      [["counted"."arn" AS "arn", "counted"."n" AS "n" FROM "counted" AS "counted"]],
    },
    rows = { { "arn:aws:sts::123456789012:assumed-role/ci-deploy/build-7", "2" } },
  },
  {
    it = "joins tables (JOIN ... ON, LEFT JOIN)",
    sql = [[SELECT c.eventname, s.useridentity['type'] AS kind FROM cloudtrail c
JOIN sa_cloudtrail s ON c.eventid IS NOT DISTINCT FROM s.eventid AND c.eventtime = s.eventtime
LEFT JOIN metrics m ON m.name = c.eventname WHERE c.dt = '2020-02-13-21' AND m.name IS NULL
ORDER BY c.eventtime]],
    translated = table.concat {
      [[SELECT "c"."eventname" AS "eventname", json_extract("s"."useridentity", '$.type') AS ]],
      [["kind" FROM "cloudtrail" AS "c" JOIN "sa_cloudtrail" AS "s" ON ("c"."eventid" IS ]],
      [["s"."eventid") AND ("c"."eventtime" = "s"."eventtime") LEFT JOIN "metrics" AS "m" ON ]],
      [["m"."name" = "c"."eventname" WHERE ("c"."dt" = '2020-02-13-21') AND ("m"."name" IS ]],
      [[NULL) ORDER BY "c"."eventtime" NULLS LAST]],
    },
    rows = { { "GetBucketPolicy", "AssumedRole" }, { "AssumeRole", "AWSService" },
             { "ConsoleLogin", "Root" }, { "AttachUserPolicy", "IAMUser" } },
  },
  {
    it = "combines results with UNION and UNION ALL",
    sql = [[SELECT eventsource FROM cloudtrail WHERE errorcode IS NOT NULL
UNION SELECT 'iam.amazonaws.com'
UNION ALL SELECT eventsource FROM cloudtrail WHERE eventname = 'CreateUser'
ORDER BY 1]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventsource" AS "eventsource" FROM "cloudtrail" AS "cloudtrail" ]],
      [[WHERE "cloudtrail"."errorcode" IS NOT NULL UNION SELECT 'iam.amazonaws.com' AS ]],
      [["_col0" UNION ALL SELECT "cloudtrail"."eventsource" AS "eventsource" FROM ]],
      [["cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventname" = 'CreateUser' ORDER BY 1 ]],
      [[NULLS LAST]],
    },
    rows = { { "ec2.amazonaws.com" }, { "iam.amazonaws.com" }, { "iam.amazonaws.com" },
             { "s3.amazonaws.com" } },
  },
  {
    it = "runs sub-queries (IN, EXISTS, scalar, in FROM)",
    sql = [[SELECT eventname FROM cloudtrail c
WHERE sourceipaddress IN (SELECT sourceipaddress FROM cloudtrail WHERE errorcode IS NOT NULL)
  AND EXISTS (SELECT 1 FROM cloudtrail d WHERE d.eventtime > c.eventtime)
  AND (SELECT count(*) FROM metrics) = 5
  AND eventname IN (SELECT e FROM (SELECT eventname AS e FROM cloudtrail) AS x)]],
    translated = table.concat {
      [[SELECT "c"."eventname" AS "eventname" FROM "cloudtrail" AS "c" WHERE ]],
      [[((("c"."sourceipaddress" IN (SELECT "cloudtrail"."sourceipaddress" AS ]],
      [["sourceipaddress" FROM "cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."errorcode" IS ]],
      [[NOT NULL)) AND EXISTS (SELECT 1 AS "_col0" FROM "cloudtrail" AS "d" WHERE ]],
      [["d"."eventtime" > "c"."eventtime")) AND ((SELECT count(*) AS "_col0" FROM "metrics" ]],
      [[AS "metrics") = 5)) AND ("c"."eventname" IN (SELECT "x"."e" AS "e" FROM (SELECT ]],
      [["cloudtrail"."eventname" AS "e" FROM "cloudtrail" AS "cloudtrail") AS "x"))]],
    },
    rows = { { "GetBucketPolicy" } },
  },
  {
    it = "groups and filters groups (GROUP BY, HAVING)",
    sql = [[SELECT useridentity.type AS kind, count(*) AS n FROM cloudtrail GROUP BY 1
HAVING count(*) > 1 ORDER BY n DESC, kind]],
    translated = table.concat {
      [[SELECT json_extract("cloudtrail"."useridentity", '$.type') AS "kind", count(*) AS "n" ]],
      [[FROM "cloudtrail" AS "cloudtrail" GROUP BY json_extract("cloudtrail"."useridentity", ]],
      [['$.type') HAVING count(*) > 1 ORDER BY 2 DESC NULLS LAST, 1 NULLS LAST]],
    },
    rows = { { "AssumedRole", "2" }, { "IAMUser", "2" } },
  },
  {
    it = "groups by a struct and reads its fields",
    sql = [[SELECT useridentity.type AS kind, useridentity.arn AS arn, count(*) AS n FROM cloudtrail
WHERE useridentity.type = 'IAMUser' GROUP BY useridentity]],
    translated = table.concat {
      [[SELECT json_extract("cloudtrail"."useridentity", '$.type') AS "kind", ]],
      [[json_extract("cloudtrail"."useridentity", '$.arn') AS "arn", count(*) AS "n" FROM ]],
      [["cloudtrail" AS "cloudtrail" WHERE json_extract("cloudtrail"."useridentity", ]],
      [['$.type') = 'IAMUser' GROUP BY "cloudtrail"."useridentity"]],
    },
    rows = { { "IAMUser", "arn:aws:iam::123456789012:user/alice", "2" } },
  },
  {
    it = "computes window functions (OVER (PARTITION BY ... ORDER BY ...))",
    sql = [[SELECT eventname, row_number() OVER (PARTITION BY eventsource ORDER BY eventtime) AS n,
  count(*) OVER (PARTITION BY eventsource) AS in_source
FROM cloudtrail WHERE eventsource = 'iam.amazonaws.com' ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", row_number() OVER (PARTITION BY ]],
      [["cloudtrail"."eventsource" ORDER BY "cloudtrail"."eventtime" NULLS LAST) AS "n", ]],
      [[count(*) OVER (PARTITION BY "cloudtrail"."eventsource") AS "in_source" FROM ]],
      [["cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."eventsource" = 'iam.amazonaws.com' ]],
      [[ORDER BY "cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = { { "CreateUser", "1", "2" }, { "AttachUserPolicy", "2", "2" } },
  },
  {
    it = "orders (NULLs last, both ways) and limits",
    sql = [[SELECT name, value FROM metrics ORDER BY value DESC LIMIT 3]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", "metrics"."value" AS "value" FROM "metrics" AS ]],
      [["metrics" ORDER BY 2 DESC NULLS LAST LIMIT 3]],
    },
    rows = { { "a", "7" }, { "d", "3" }, { "A", "2" } },
  },
  {
    it = "puts NULLs last when ascending too",
    sql = [[SELECT name, ratio FROM metrics ORDER BY ratio]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", "metrics"."ratio" AS "ratio" FROM "metrics" AS ]],
      [["metrics" ORDER BY 2 NULLS LAST]],
    },
    rows = { { "d", "0.001" }, { "a", "0.5" }, { "c", "2.25" }, { "A", "1.0E7" },
             { "b", "NULL" } },
  },
  {
    it = "reads a query named after the table it reads (WITH cloudtrail AS ... FROM cloudtrail)",
    sql = [[WITH cloudtrail AS (SELECT * FROM cloudtrail WHERE errorcode IS NOT NULL)
SELECT eventname, errorcode FROM cloudtrail ORDER BY eventtime]],
    translated = table.concat {
      [[WITH "cloudtrail~cte" AS (SELECT "cloudtrail"."eventversion" AS "eventversion", ]],
      [["cloudtrail"."useridentity" AS "useridentity", "cloudtrail"."eventtime" AS ]],
      [["eventtime", "cloudtrail"."eventsource" AS "eventsource", "cloudtrail"."eventname" AS ]],
      [["eventname", "cloudtrail"."awsregion" AS "awsregion", "cloudtrail"."sourceipaddress" ]],
      [[AS "sourceipaddress", "cloudtrail"."useragent" AS "useragent", ]],
      [["cloudtrail"."errorcode" AS "errorcode", "cloudtrail"."errormessage" AS ]],
      [["errormessage", "cloudtrail"."requestparameters" AS "requestparameters", ]],
      [["cloudtrail"."responseelements" AS "responseelements", ]],
      [["cloudtrail"."additionaleventdata" AS "additionaleventdata", "cloudtrail"."requestid" ]],
      [[AS "requestid", "cloudtrail"."eventid" AS "eventid", "cloudtrail"."resources" AS ]],
      [["resources", "cloudtrail"."eventtype" AS "eventtype", "cloudtrail"."apiversion" AS ]],
      [["apiversion", "cloudtrail"."readonly" AS "readonly", ]],
      [["cloudtrail"."recipientaccountid" AS "recipientaccountid", ]],
      [["cloudtrail"."serviceeventdetails" AS "serviceeventdetails", ]],
      [["cloudtrail"."sharedeventid" AS "sharedeventid", "cloudtrail"."vpcendpointid" AS ]],
      [["vpcendpointid", "cloudtrail"."vpcendpointaccountid" AS "vpcendpointaccountid", ]],
      [["cloudtrail"."eventcategory" AS "eventcategory", "cloudtrail"."addendum" AS ]],
      [["addendum", "cloudtrail"."sessioncredentialfromconsole" AS ]],
      [["sessioncredentialfromconsole", "cloudtrail"."edgedevicedetails" AS ]],
      [["edgedevicedetails", "cloudtrail"."tlsdetails" AS "tlsdetails", "cloudtrail"."dt" AS ]],
      [["dt" FROM "cloudtrail" AS "cloudtrail" WHERE "cloudtrail"."errorcode" IS NOT NULL) ]],
      [[SELECT "cloudtrail"."eventname" AS "eventname", "cloudtrail"."errorcode" AS ]],
      [["errorcode" FROM "cloudtrail~cte" AS "cloudtrail" ORDER BY "cloudtrail"."eventtime" ]],
      [[NULLS LAST]],
    },
    rows = { { "GetBucketPolicy", "AccessDenied" },
             { "DescribeInstances", "Client.UnauthorizedOperation" } },
  },
  {
    it = "picks values by another column's extreme (max_by, min_by) and neighbours (lag)",
    sql = [[SELECT max_by(eventname, eventtime) AS last_event,
  min_by(eventname, eventtime) AS first, max(eventtime) AS at FROM cloudtrail]],
    translated = table.concat {
      [[SELECT sq_max_by("cloudtrail"."eventname", "cloudtrail"."eventtime") AS "last_event", ]],
      [[sq_min_by("cloudtrail"."eventname", "cloudtrail"."eventtime") AS "first", ]],
      [[max("cloudtrail"."eventtime") AS "at" FROM "cloudtrail" AS "cloudtrail"]],
    },
    rows = { { "DescribeInstances", "CreateUser", "2020-02-13T22:01:00Z" } },
  },
  {
    it = "computes lag and lead over a window, and date_diff between rows",
    sql = [[SELECT eventname, lag(eventname) OVER (ORDER BY eventtime) AS previous,
  date_diff('second', lag(from_iso8601_timestamp(eventtime)) OVER (ORDER BY eventtime),
    from_iso8601_timestamp(eventtime)) AS gap
FROM cloudtrail WHERE dt = '2020-02-13-21' ORDER BY eventtime]],
    translated = table.concat {
      [[SELECT "cloudtrail"."eventname" AS "eventname", lag("cloudtrail"."eventname") OVER ]],
      [[(ORDER BY "cloudtrail"."eventtime" NULLS LAST) AS "previous", sq_ts_diff('second', ]],
      [[lag(sq_cast_ts("cloudtrail"."eventtime", 3)) OVER (ORDER BY "cloudtrail"."eventtime" ]],
      [[NULLS LAST), sq_cast_ts("cloudtrail"."eventtime", 3)) AS "gap" FROM "cloudtrail" AS ]],
      [["cloudtrail" WHERE "cloudtrail"."dt" = '2020-02-13-21' ORDER BY ]],
      [["cloudtrail"."eventtime" NULLS LAST]],
    },
    rows = { { "GetBucketPolicy", "NULL", "NULL" }, { "AssumeRole", "GetBucketPolicy", "330" },
             { "ConsoleLogin", "AssumeRole", "1770" },
             { "AttachUserPolicy", "ConsoleLogin", "1199" } },
  },
  {
    it = "keeps Athena's timestamp formats apart: CAST takes a space, from_iso8601 a T",
    sql = [[SELECT TRY_CAST('2020-02-13T21:00:00Z' AS TIMESTAMP) AS iso_cast,
  TRY_CAST('2020-02-13 21:00:00' AS TIMESTAMP) AS sql_cast,
  from_iso8601_timestamp('2020-02-13T21:00:00.5+00:00') AS offset,
  from_iso8601_date('2020-02-13') AS day]],
    translated = table.concat {
      [[SELECT sq_cast_ts('2020-02-13T21:00:00Z', 0) AS "iso_cast", sq_cast_ts('2020-02-13 ]],
      [[21:00:00', 0) AS "sql_cast", sq_cast_ts('2020-02-13T21:00:00.5+00:00', 3) AS ]],
      [["offset", sq_cast_date('2020-02-13', 3) AS "day"]],
    },
    rows = { { "NULL", "2020-02-13 21:00:00.000", "2020-02-13 21:00:00.500 UTC", "2020-02-13" } },
  },
  {
    it = "truncates integer division towards zero",
    sql = [[SELECT value / 2 AS half, value % 4 AS rest, value / 2.0 AS exact FROM metrics
WHERE name IN ('a', 'b') ORDER BY name]],
    translated = table.concat {
      [[SELECT ("metrics"."value" / 2) AS "half", ("metrics"."value" % 4) AS "rest", ]],
      [[sq_fdiv("metrics"."value", 2.0) AS "exact" FROM "metrics" AS "metrics" WHERE ]],
      [["metrics"."name" IN ('a', 'b') ORDER BY "metrics"."name" NULLS LAST]],
    },
    rows = { { "3", "3", "3.5" }, { "-3", "-3", "-3.5" } },
  },
  {
    it = "checks bigint arithmetic for overflow, as Trino does",
    sql = [[SELECT value * 2 AS twice, value - 1 AS less, -value AS negated, value + 1 AS more,
  -1 AS minus_one FROM metrics WHERE name = 'a']],
    translated = table.concat {
      [[SELECT sq_mul("metrics"."value", 2) AS "twice", sq_sub("metrics"."value", 1) AS ]],
      [["less", sq_neg("metrics"."value") AS "negated", sq_add("metrics"."value", 1) AS ]],
      [["more", (-1) AS "minus_one" FROM "metrics" AS "metrics" WHERE "metrics"."name" = 'a']],
    },
    rows = { { "14", "6", "-7", "8", "-1" } },
  },
  {
    it = "answers NULL where an array's NULL leaves contains, the matches and extremes unknown",
    sql = [[SELECT contains(ARRAY[1, NULL], 2) AS c2, contains(ARRAY[1, NULL], 1) AS c1,
  any_match(ARRAY[NULL, 1], x -> x > 5) AS any_null, any_match(ARRAY[NULL, 10], x -> x > 5) AS
  any_true, all_match(ARRAY[NULL, 10], x -> x > 5) AS all_null,
  all_match(ARRAY[NULL, 1], x -> x > 5) AS all_false,
  none_match(ARRAY[NULL, 1], x -> x > 5) AS none_null,
  none_match(ARRAY[NULL, 10], x -> x > 5) AS none_false,
  array_max(ARRAY[1, NULL, 3]) AS max_null, array_min(ARRAY[1, NULL, 3]) AS min_null,
  array_max(ARRAY[1, 3]) AS max3]],
    translated = table.concat {
      [[SELECT CASE WHEN json_array(1, NULL) IS NULL THEN NULL ELSE (SELECT CASE WHEN ]],
      [[max("_e".value = 2) THEN 1 WHEN max(("_e".value = 2) IS NULL) THEN NULL ELSE 0 END ]],
      [[FROM json_each(json_array(1, NULL)) AS "_e") END AS "c2", CASE WHEN json_array(1, ]],
      [[NULL) IS NULL THEN NULL ELSE (SELECT CASE WHEN max("_e".value = 1) THEN 1 WHEN ]],
      [[max(("_e".value = 1) IS NULL) THEN NULL ELSE 0 END FROM json_each(json_array(1, ]],
      [[NULL)) AS "_e") END AS "c1", CASE WHEN json_array(NULL, 1) IS NULL THEN NULL ELSE ]],
      [[(SELECT CASE WHEN max("_l1".value > 5) THEN 1 WHEN max(("_l1".value > 5) IS NULL) ]],
      [[THEN NULL ELSE 0 END FROM json_each(json_array(NULL, 1)) AS "_l1") END AS ]],
      [["any_null", CASE WHEN json_array(NULL, 10) IS NULL THEN NULL ELSE (SELECT CASE WHEN ]],
      [[max("_l2".value > 5) THEN 1 WHEN max(("_l2".value > 5) IS NULL) THEN NULL ELSE 0 ]],
      [[END FROM json_each(json_array(NULL, 10)) AS "_l2") END AS "any_true", CASE WHEN ]],
      [[json_array(NULL, 10) IS NULL THEN NULL ELSE (SELECT CASE WHEN max(NOT ("_l3".value ]],
      [[> 5)) THEN 0 WHEN max((NOT ("_l3".value > 5)) IS NULL) THEN NULL ELSE 1 END FROM ]],
      [[json_each(json_array(NULL, 10)) AS "_l3") END AS "all_null", CASE WHEN ]],
      [[json_array(NULL, 1) IS NULL THEN NULL ELSE (SELECT CASE WHEN max(NOT ("_l4".value > ]],
      [[5)) THEN 0 WHEN max((NOT ("_l4".value > 5)) IS NULL) THEN NULL ELSE 1 END FROM ]],
      [[json_each(json_array(NULL, 1)) AS "_l4") END AS "all_false", CASE WHEN ]],
      [[json_array(NULL, 1) IS NULL THEN NULL ELSE (SELECT CASE WHEN max("_l5".value > 5) ]],
      [[THEN 0 WHEN max(("_l5".value > 5) IS NULL) THEN NULL ELSE 1 END FROM ]],
      [[json_each(json_array(NULL, 1)) AS "_l5") END AS "none_null", CASE WHEN ]],
      [[json_array(NULL, 10) IS NULL THEN NULL ELSE (SELECT CASE WHEN max("_l6".value > 5) ]],
      [[THEN 0 WHEN max(("_l6".value > 5) IS NULL) THEN NULL ELSE 1 END FROM ]],
      [[json_each(json_array(NULL, 10)) AS "_l6") END AS "none_false", CASE WHEN ]],
      [[json_array(1, NULL, 3) IS NULL THEN NULL ELSE (SELECT CASE WHEN count(*) > ]],
      [[count("_e".value) THEN NULL ELSE max("_e".value) END FROM json_each(json_array(1, ]],
      [[NULL, 3)) AS "_e") END AS "max_null", CASE WHEN json_array(1, NULL, 3) IS NULL THEN ]],
      [[NULL ELSE (SELECT CASE WHEN count(*) > count("_e".value) THEN NULL ELSE ]],
      [[min("_e".value) END FROM json_each(json_array(1, NULL, 3)) AS "_e") END AS ]],
      [["min_null", CASE WHEN json_array(1, 3) IS NULL THEN NULL ELSE (SELECT CASE WHEN ]],
      [[count(*) > count("_e".value) THEN NULL ELSE max("_e".value) END FROM ]],
      [[json_each(json_array(1, 3)) AS "_e") END AS "max3"]],
    },
    rows = { { "NULL", "true", "NULL", "true", "NULL", "false", "NULL", "false", "NULL", "NULL",
               "3" } },
  },
  {
    it = "takes substrings and varchar(n) casts as Trino does",
    sql = [[SELECT substr('hello', 0) AS zero, substr('hello', 2) AS from2,
  substr('hello', -3, 2) AS back, substr('hello', -9) AS before, substr('hello', 2, -1) AS neg,
  substring('héllo', 2, 2) AS accent, CAST('abcdef' AS varchar(3)) AS short,
  CAST('ab' AS varchar(3)) AS fits]],
    translated = table.concat {
      [[SELECT sq_substr('hello', 0) AS "zero", sq_substr('hello', 2) AS "from2", ]],
      [[sq_substr('hello', (-3), 2) AS "back", sq_substr('hello', (-9)) AS "before", ]],
      [[sq_substr('hello', 2, (-1)) AS "neg", sq_substr('héllo', 2, 2) AS "accent", ]],
      [[substr('abcdef', 1, 3) AS "short", substr('ab', 1, 3) AS "fits"]],
    },
    rows = { { "", "ello", "ll", "", "", "él", "abc", "ab" } },
  },
  {
    it = "gives Infinity for a double divided by zero, and the logarithm of zero",
    sql = [[SELECT 1e0 / 0 AS inf, -1e0 / 0 AS neg, ln(0) AS minus, CAST('Infinity' AS double)
  AS cast_inf, (SELECT count(*) FROM metrics WHERE ratio / 0e0 > 1) AS n]],
    translated = table.concat {
      [[SELECT sq_fdiv(1e0, 0) AS "inf", sq_fdiv((-1e0), 0) AS "neg", sq_ln(0) AS "minus", ]],
      [[sq_cast_double('Infinity', 1) AS "cast_inf", (SELECT count(*) AS "_col0" FROM ]],
      [["metrics" AS "metrics" WHERE sq_fdiv("metrics"."ratio", 0e0) > 1) AS "n"]],
    },
    rows = { { "Infinity", "-Infinity", "-Infinity", "Infinity", "4" } },
  },
  {
    it = "shows infinities inside arrays as Athena does",
    sql = [[SELECT array_agg(ratio / 0e0) AS a FROM metrics WHERE ratio IS NOT NULL]],
    translated = table.concat {
      [[SELECT nullif(json_group_array(sq_fdiv("metrics"."ratio", 0e0)), '[]') AS "a" FROM ]],
      [["metrics" AS "metrics" WHERE "metrics"."ratio" IS NOT NULL]],
    },
    rows = { { "[Infinity, Infinity, Infinity, Infinity]" } },
  },
  {
    it = "runs a scalar sub-query of one row per outer row, checking it has no more",
    sql = [[SELECT name, (SELECT m.value FROM metrics m WHERE m.name = metrics.name) AS v
FROM metrics WHERE name IN ('a', 'c')]],
    translated = table.concat {
      [[SELECT "metrics"."name" AS "name", (SELECT sq_scalar("_q"."value") FROM (SELECT ]],
      [["m"."value" AS "value" FROM "metrics" AS "m" WHERE "m"."name" = "metrics"."name") ]],
      [[AS "_q") AS "v" FROM "metrics" AS "metrics" WHERE "metrics"."name" IN ('a', 'c')]],
    },
    rows = { { "a", "7" }, { "c", "NULL" } },
  },
}
