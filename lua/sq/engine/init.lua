-- The engine interface: what a pass needs from the thing that runs SQL.
-- Two implementations: sq.engine.athena (Amazon Athena over the aws
-- primitive) and sq.engine.local (SQLite over local files). The pass, the
-- state and the records never know which one they talk to.
--
--   engine:start(list)   list of { name =, sql =, token =, database =,
--                        workgroup =, output_location = }; returns a list
--                        in the same order of { id = "..." } or
--                        { error = { code =, message =, retryable = bool } }
--   engine:status(ids)   map id -> { state = "QUEUED" | "RUNNING" |
--                        "SUCCEEDED" | "FAILED" | "CANCELLED", reason =,
--                        data_scanned_in_bytes =, execution_time_ms = };
--                        an id the engine could not answer for this time is
--                        absent; an id it will never know is FAILED; a
--                        second result says why some could not be checked
--   engine:results(id, next_token, max_rows)
--                        one page: { columns = { "name", ... },
--                        rows = { row, ... },
--                        next_token = string | nil } or nil, err, where err
--                        is { code =, message =, retryable = bool };
--                        a row is either an array of values,
--                        { "v", cjson.null, ... }, or the text of the row's
--                        JSON object, '{"name":"v",...,"other":null}', keys
--                        in column order, no white space, strings written
--                        as cjson writes them (sq.records uses it as it
--                        is); values are the strings Athena renders, a
--                        missing value is null; the header row of Athena's
--                        first page is not part of rows. The local engine
--                        gives arrays, the Athena engine texts
--   engine:stop(id)      true or nil, err (a message or such a table)
--   engine.kind          "athena" or "local"
local engine = {}

-- Returns the engine module for a kind name.
function engine.load(kind)
  if kind ~= "athena" and kind ~= "local" then
    return nil, string.format("unknown engine %q (expected athena or local)", tostring(kind))
  end
  return require("sq.engine." .. kind)
end

return engine
