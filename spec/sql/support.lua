-- Helpers for the local engine's specs: temporary data folders and running a query to its
-- rows. Used as require("sql.support").
local cjson = require("cjson")
local local_engine = require("sq.engine.local")

local support = {}

support.ROOT = os.getenv("STREAMQUERY_ROOT") or "."
support.CLOCK = 1581631580 -- 2020-02-13T22:06:20Z

-- A new empty folder.
function support.tempdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p '" .. dir .. "'"))
  return dir
end

function support.remove(dir)
  os.execute("rm -rf '" .. dir .. "'")
end

-- Writes text to dir/relative, making folders; gzip = true compresses it to .gz.
function support.write(dir, relative, text, gzip)
  local path = dir .. "/" .. relative
  assert(os.execute("mkdir -p '" .. path:match("^(.*)/") .. "'"))
  local file = assert(io.open(path, "wb"))
  file:write(text)
  file:close()
  if gzip then
    assert(os.execute("gzip -n -f '" .. path .. "'"))
    path = path .. ".gz"
  end
  return path
end

-- JSON lines of the given records (Lua tables).
function support.lines(records)
  local lines = {}
  for i, record in ipairs(records) do
    lines[i] = cjson.encode(record)
  end
  return table.concat(lines, "\n") .. "\n"
end

function support.engine(data, options)
  options = options or {}
  return local_engine.new { data = data, clock = options.clock or support.CLOCK,
                            log = options.log or function() end, root = options.root,
                            slow_load = options.slow_load,
                            progress_every = options.progress_every }
end

-- Runs one query; returns { state =, reason =, columns =, rows =, sql = (translated),
-- status = } with NULL shown as "NULL".
function support.run(engine, sql)
  local id = engine:start({ { name = "spec", sql = sql } })[1].id
  local status = engine:status({ id })[id]
  local result = { id = id, state = status.state, reason = status.reason, status = status,
                   sql = engine:translated(id) }
  if status.state ~= "SUCCEEDED" then
    return result
  end
  result.rows = {}
  local token
  repeat
    local page = assert(engine:results(id, token, 1000))
    result.columns = page.columns
    for _, row in ipairs(page.rows) do
      local copy = {}
      for i, value in ipairs(row) do
        copy[i] = value == cjson.null and "NULL" or value
      end
      result.rows[#result.rows + 1] = copy
    end
    token = page.next_token
  until not token
  return result
end

return support
