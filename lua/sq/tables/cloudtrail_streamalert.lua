-- The CloudTrail table as StreamAlert defines it (schema cloudtrail:events):
-- every nested object is a map<string,string> (keys as CloudTrail writes
-- them, nested values as JSON text), resources an array of strings, and
-- the table is partitioned by dt (YYYY-MM-DD-HH).
return {
  name = "cloudtrail_streamalert",
  description = "CloudTrail events, StreamAlert's cloudtrail:events schema",
  columns = {
    { name = "additionaleventdata", type = "map<string,string>" },
    { name = "apiversion", type = "string" },
    { name = "awsregion", type = "string" },
    { name = "errorcode", type = "string" },
    { name = "errormessage", type = "string" },
    { name = "eventid", type = "string" },
    { name = "eventname", type = "string" },
    { name = "eventsource", type = "string" },
    { name = "eventtime", type = "string" },
    { name = "eventtype", type = "string" },
    { name = "eventversion", type = "string" },
    { name = "managementevent", type = "boolean" },
    { name = "readonly", type = "boolean" },
    { name = "recipientaccountid", type = "string" },
    { name = "requestid", type = "string" },
    { name = "requestparameters", type = "map<string,string>" },
    { name = "resources", type = "array<string>" },
    { name = "responseelements", type = "map<string,string>" },
    { name = "serviceeventdetails", type = "map<string,string>" },
    { name = "sharedeventid", type = "string" },
    { name = "sourceipaddress", type = "string" },
    { name = "useragent", type = "string" },
    { name = "useridentity", type = "map<string,string>" },
    { name = "vpcendpointid", type = "string" },
  },
  partitions = {
    { name = "dt", type = "string", derive = { from = "eventtime", format = "%Y-%m-%d-%H" } },
  },
}
