-- The local engine: Athena SQL on local files, with an embedded SQLite (host.sqlite).
-- It implements the interface of sq.engine (start, status, results, stop).
--
--   require("sq.engine.local").new{ data = DIR, clock = epoch seconds, log = fn(level, msg),
--                                   root = project root (for conf/tables) }
--   (slow_load = seconds and progress_every = records tune when loading reports progress.)
--
-- A table is a folder under DIR holding JSON lines or CloudTrail files ({"Records": [...]}),
-- plain or gzip; key=value folders become partition columns. `cloudtrail`,
-- `"db"."cloudtrail"` and `db.cloudtrail` all name DIR/cloudtrail (the database is ignored).
-- A table is loaded the first time a query names it and kept for the engine's life, so
-- the passes of one run load it once. Queries run when they are started; their rows are
-- read from an open statement page by page.
--
-- Results live in this process only. An execution id is "local-" and 32 hex digits of a hash
-- of the start's ClientRequestToken (of a random per-engine nonce and a counter when a start
-- has none), so ids never collide between processes, and a start repeated with its token, in
-- this process or in a new one, gets the same id, as in Athena. An id this engine did not
-- issue (a pass in a new process, as `bin/host pass` and Lambda may be) is FAILED with a
-- reason that says so, rather than left running forever.
-- luacheck: ignore 212/self
local cjson = require("cjson")
local clock = require("host.clock")
local fs = require("host.fs")
local sigv4 = require("host.sigv4")
local sqlite = require("host.sqlite")
local tables = require("sq.tables")
local translate = require("sq.sql.translate")
local types = require("sq.sql.types")

local engine = { kind = "local" }

local Engine = {}
Engine.__index = Engine

local MAX_PAGE = 1000           -- GetQueryResults' limit
local SLOW_LOAD_SECONDS = 1     -- loading longer than this shows progress
local PROGRESS_EVERY = 50000    -- records between two looks at the time
local ID_DIGITS = 32            -- hex digits of an execution id (128 bits)

local function default_log(level, message)
  if level ~= "debug" then
    io.stderr:write(string.format("streamquery: %s: %s\n", level, message))
  end
end

-- Bytes that no other engine, in this process or another, will have.
local function nonce()
  local file = io.open("/dev/urandom", "rb")
  local bytes = file and file:read(16)
  if file then
    file:close()
  end
  if not bytes or #bytes ~= 16 then -- no /dev/urandom: the time and an address differ enough
    bytes = string.format("%d %.9f %s", clock.now(), clock.monotonic(), tostring({}))
  end
  return bytes
end

function engine.new(options)
  options = options or {}
  if type(options.data) ~= "string" or options.data == "" then
    error("the local engine needs a data folder (--data DIR)", 2)
  end
  local db, err = sqlite.open()
  if not db then
    error("cannot open SQLite: " .. tostring(err), 2)
  end
  return setmetatable({
    kind = "local",
    data = options.data:gsub("/+$", ""),
    clock = options.clock or clock.now(),
    log = options.log or default_log,
    slow_load = options.slow_load or SLOW_LOAD_SECONDS,
    progress_every = options.progress_every or PROGRESS_EVERY,
    root = options.root or os.getenv("STREAMQUERY_ROOT"),
    db = db,
    tables = {},
    queries = {},
    nonce = nonce(),
    count = 0,
  }, Engine)
end

---------------------------------------------------------------------------
-- Tables
---------------------------------------------------------------------------

local function folder_partitions(path)
  local partitions = {}
  for part in path:gmatch("([^/]+)/") do
    local key, value = part:match("^([^=]+)=(.*)$")
    if key then
      partitions[#partitions + 1] = { key = key:lower(), value = value }
    end
  end
  return partitions
end

-- Whether a partition folder's value is one of the declared type, as Hive reads it.
local PARTITION_VALUE = {
  bigint = function(v)
    return v:match("^[-+]?%d+$") and math.tointeger(tonumber(v)) ~= nil
  end,
  double = function(v)
    return tonumber(v) ~= nil and not v:match("^%s") and not v:match("^0[xX]")
  end,
  boolean = function(v)
    local lower = v:lower()
    return lower == "true" or lower == "false"
  end,
  date = function(v)
    return v:match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil
  end,
}

-- Athena's error for a partition folder whose value is not of the partition's type.
local function invalid_partition(partition, file, dir)
  local valid = PARTITION_VALUE[partition.type.kind]
  if not valid then
    return nil
  end
  local folder = ""
  for part in file.path:gmatch("([^/]+)/") do
    folder = folder .. "/" .. part
    local key, value = part:match("^([^=]+)=(.*)$")
    if key and key:lower() == partition.name and not valid(value) then
      return string.format("HIVE_INVALID_PARTITION_VALUE: Invalid partition value '%s' for %s "
        .. "partition key: %s (folder %s%s)", value,
        (partition.declared or types.name(partition.type)):upper(), part, dir, folder)
    end
  end
  return nil
end

-- Loads DIR/name into SQLite. Returns the table { sql =, columns =, bytes =, records = }.
function Engine:load_table(name)
  if not name:match("^[%a_][%w_]*$") then
    return nil, string.format("TABLE_NOT_FOUND: table name %q is not a folder name", name)
  end
  local dir = self.data .. "/" .. name
  local listing = fs.files(dir, "._") -- Hive skips hidden and _-prefixed names
  if not listing then
    return nil, string.format("TABLE_NOT_FOUND: Table '%s' does not exist (no folder %s)", name,
      dir)
  end
  local schema, err = tables.schema(name, dir, self.root)
  if not schema then
    return nil, "HIVE_METASTORE_ERROR: " .. err
  end
  local files = {}
  for _, file in ipairs(listing) do
    if file.path ~= "schema.json" then
      files[#files + 1] = file
    end
  end
  table.sort(files, function(a, b)
    return a.path < b.path
  end)

  -- the columns: declared, then declared partitions, then partition folders found
  local columns, partitions, by_name = {}, {}, {}
  for i, column in ipairs(schema.columns) do
    columns[i] = { name = column.name, type = column.type }
    by_name[column.name] = true
  end
  local function add_partition(partition)
    if not by_name[partition.name] then
      by_name[partition.name] = true
      partitions[#partitions + 1] = partition
    end
  end
  for _, partition in ipairs(schema.partitions) do
    add_partition({ name = partition.name, type = partition.type, derive = partition.derive,
                    declared = partition.declared })
  end
  for _, file in ipairs(files) do
    file.partitions = folder_partitions(file.path)
    for _, p in ipairs(file.partitions) do
      add_partition({ name = p.key, type = types.VARCHAR })
    end
  end
  for _, partition in ipairs(partitions) do
    for _, file in ipairs(files) do
      local bad = invalid_partition(partition, file, dir)
      if bad then
        return nil, bad
      end
    end
  end

  local sql_name = translate.quote_name(name)
  local definitions, placeholders = {}, {}
  local row_fields = {}
  for i, column in ipairs(columns) do
    definitions[#definitions + 1] = translate.quote_name(column.name) .. " "
      .. types.affinity(column.type)
    row_fields[i] = { name = column.name, type = types.shape(column.type) }
  end
  for _, partition in ipairs(partitions) do
    definitions[#definitions + 1] = translate.quote_name(partition.name) .. " "
      .. types.affinity(partition.type)
  end
  for i = 1, #definitions do
    placeholders[i] = "?"
  end
  local ok
  ok, err = self.db:exec(string.format("CREATE TABLE %s (%s)", sql_name,
    table.concat(definitions, ", ")))
  if not ok then
    return nil, "HIVE_METASTORE_ERROR: " .. err
  end
  local loader = self.db:loader(string.format("INSERT INTO %s VALUES (%s)", sql_name,
    table.concat(placeholders, ", ")), { kind = "struct", fields = row_fields }, #partitions)

  local started = clock.monotonic()
  local records, bytes, reported = 0, 0, started
  local function progress(count)
    local now = clock.monotonic()
    if now - reported >= self.slow_load then
      reported = now
      self.log("info", string.format("loading table %s: %d records so far", name,
        records + count))
    end
  end
  assert(self.db:exec("BEGIN"))
  for _, file in ipairs(files) do
    local values = {}
    for i, partition in ipairs(partitions) do
      for _, p in ipairs(file.partitions) do
        if p.key == partition.name then
          values[i] = p.value
        end
      end
    end
    local count, load_err = loader:load(dir .. "/" .. file.path, values, progress,
      self.progress_every)
    if not count then
      loader:close()
      self.db:exec("ROLLBACK")
      self.db:exec("DROP TABLE " .. sql_name)
      return nil, "HIVE_BAD_DATA: " .. load_err
    end
    records = records + count
    bytes = bytes + file.size
  end
  loader:close()
  for _, partition in ipairs(partitions) do
    if partition.derive then
      local column = translate.quote_name(partition.name)
      assert(self.db:exec(string.format("UPDATE %s SET %s = sq_date_format(sq_cast_ts(%s, 4), %s) "
        .. "WHERE %s IS NULL", sql_name, column, translate.quote_name(partition.derive.from),
        translate.quote_string(partition.derive.format), column)))
    end
  end
  assert(self.db:exec("COMMIT"))
  local seconds = clock.monotonic() - started
  self.log(seconds >= self.slow_load and "info" or "debug", string.format(
    "loaded table %s: %d records from %d files (%d bytes) in %.1f s", name, records, #files,
    bytes, seconds))
  for _, partition in ipairs(partitions) do
    columns[#columns + 1] = { name = partition.name, type = partition.type }
  end
  return { sql = sql_name, columns = columns, bytes = bytes, records = records, files = #files }
end

-- The table for a name as written in a query; loaded once, errors remembered too.
function Engine:table(parts)
  local name = parts[#parts]
  local cached = self.tables[name]
  if not cached then
    local t, err = self:load_table(name)
    cached = { table = t, error = err }
    self.tables[name] = cached
  end
  return cached.table, cached.error
end

---------------------------------------------------------------------------
-- Queries
---------------------------------------------------------------------------

local function classify(message)
  if message:find("not supported by the local engine", 1, true) then
    return "NOT_SUPPORTED: " .. message
  end
  return "SYNTAX_ERROR: " .. message
end

-- Translates and runs one query, fetching its first page so that errors show at once.
function Engine:execute(entry)
  local used, load_error = {}, nil
  local result, err = translate.translate(entry.sql, {
    clock = self.clock,
    catalog = function(parts)
      local t, table_err = self:table(parts)
      if not t then
        load_error = table_err -- the translation stops here
        return nil, table_err
      end
      used[parts[#parts]] = t
      return t
    end,
  })
  local bytes = 0
  for _, t in pairs(used) do
    bytes = bytes + t.bytes
  end
  entry.data_scanned_in_bytes = bytes
  if not result then
    return nil, load_error or classify(err.message)
  end
  entry.translated = result.sql
  entry.sites = result.sites
  entry.columns = result.columns
  local cursor
  cursor, err = self.db:query(result.sql)
  if not cursor then
    return nil, "GENERIC_INTERNAL_ERROR: SQLite rejected the translation: " .. err
  end
  entry.cursor = cursor
  entry.buffer, entry.served, entry.done = {}, 0, false
  return self:fill(entry, MAX_PAGE + 1)
end

-- "line L:C: " of the construct a run-time NOT_SUPPORTED message is about (the sites whose
-- kind begins it, the longest kind first): its position if the query has one such construct,
-- all of them if several.
local function where(sites, message)
  local found, longest = {}, 0
  for _, site in ipairs(sites or {}) do
    if message:sub(1, #site.kind) == site.kind and #site.kind >= longest then
      if #site.kind > longest then
        found, longest = {}, #site.kind
      end
      found[#found + 1] = string.format("%d:%d", site.line, site.column)
    end
  end
  if #found == 0 then
    return ""
  end
  return string.format("line %s: ", table.concat(found, " or "))
end

-- Reads rows from the cursor until `count` are buffered or it is exhausted.
function Engine:fill(entry, count)
  while not entry.done and #entry.buffer < count do
    local rows, done = entry.cursor:fetch(count - #entry.buffer, cjson.null)
    if not rows then
      if done:find("not supported by the local engine", 1, true) then
        return nil, "NOT_SUPPORTED: " .. where(entry.sites, done) .. done
      elseif done:match("^NUMERIC_VALUE_OUT_OF_RANGE: ") then
        return nil, done
      end
      return nil, "GENERIC_USER_ERROR: " .. done
    end
    table.move(rows, 1, #rows, #entry.buffer + 1, entry.buffer)
    if done then
      entry.done = true
      entry.cursor:close()
    end
  end
  return true
end

-- The execution id of a start: derived from its token, so the same token gives the same id
-- in any process; a start without a token gets an id no other start will have.
function Engine:execution_id(token)
  if not token then
    self.count = self.count + 1
    token = string.format("%s\n%d", self.nonce, self.count)
  end
  return "local-" .. sigv4.sha256_hex("streamquery local engine\n" .. token):sub(1, ID_DIGITS)
end

function Engine:start(list)
  local started = {}
  for i, query in ipairs(list) do
    local id = self:execution_id(query.token)
    started[i] = { id = id }
    if self.queries[id] then
      goto next -- as Athena does: a start repeated with its token is the same execution
    end
    local entry = { name = query.name, sql = query.sql }
    local t0 = clock.monotonic()
    local ok, err = self:execute(entry)
    entry.execution_time_ms = math.floor((clock.monotonic() - t0) * 1000 + 0.5)
    if ok then
      entry.state = "SUCCEEDED"
    else
      entry.state, entry.reason = "FAILED", err
      if entry.cursor then
        entry.cursor:close()
      end
      self.log("debug", string.format("query %s failed: %s", tostring(query.name), err))
    end
    self.queries[id] = entry
    ::next::
  end
  return started
end

-- Why an id has no query here: another engine's id, or one issued by another process.
local function unknown_reason(id)
  if type(id) ~= "string" or not id:match("^local%-%x+$") then
    return string.format("QUERY_NOT_FOUND: %s is not an execution id of the local engine "
      .. "(was this execution started with --engine athena?)", tostring(id))
  end
  return string.format("QUERY_NOT_FOUND: the local engine has no query %s: it keeps query "
    .. "results only within the process that started the query, and a pass in a new process "
    .. "cannot read them; run this execution again with bin/host run --engine local, which "
    .. "runs every pass in one process", id)
end

function Engine:status(ids)
  local statuses = {}
  for _, id in ipairs(ids) do
    local entry = self.queries[id]
    if entry then
      statuses[id] = { state = entry.state, reason = entry.reason,
                       data_scanned_in_bytes = entry.data_scanned_in_bytes or 0,
                       execution_time_ms = entry.execution_time_ms or 0 }
    else -- it will never be known here: waiting for it would wait forever
      statuses[id] = { state = "FAILED", reason = unknown_reason(id), data_scanned_in_bytes = 0,
                       execution_time_ms = 0 }
    end
  end
  return statuses
end

-- Starts the query again and skips `offset` rows (a page asked for again after a retry).
function Engine:rewind(entry, offset)
  if entry.cursor then
    entry.cursor:close()
  end
  local ok, err = self:execute(entry)
  if not ok then
    return nil, err
  end
  while entry.served < offset do
    ok, err = self:fill(entry, math.min(offset - entry.served, MAX_PAGE))
    if not ok then
      return nil, err
    end
    if #entry.buffer == 0 then
      break
    end
    local skip = math.min(#entry.buffer, offset - entry.served)
    table.move(entry.buffer, skip + 1, #entry.buffer + skip, 1)
    entry.served = entry.served + skip
  end
  return true
end

-- An error of results or stop: the same data and SQL would fail the same way, so it is final
-- (the pass fails the query rather than trying it again pass after pass); it reads as its
-- message where a string is expected.
local FinalError = { __tostring = function(err) return err.message end }

local function final_error(message)
  return setmetatable({ code = message:match("^([%u_]+): ") or "InvalidRequestException",
                        message = message, retryable = false }, FinalError)
end

-- One page of a result, or nil and the reason.
local function read_page(self, id, next_token, max_rows)
  local entry = self.queries[id]
  if not entry then
    return nil, unknown_reason(id)
  end
  if entry.state ~= "SUCCEEDED" then
    return nil, string.format("query %s is %s", id, entry.state)
  end
  local offset = 0
  if next_token ~= nil then
    offset = tonumber(tostring(next_token):match("^(%d+)$") or "")
    if not offset then
      return nil, "invalid next token " .. tostring(next_token)
    end
  end
  local last = entry.last_page
  if last and last.offset == offset then
    return last.page
  end
  if offset ~= entry.served then
    local ok, err = self:rewind(entry, offset)
    if not ok then
      return nil, err
    end
  end
  local size = math.min(math.max(math.tointeger(max_rows) or MAX_PAGE, 1), MAX_PAGE)
  local ok, err = self:fill(entry, size + 1)
  if not ok then
    return nil, err
  end
  local rows, columns = {}, entry.columns
  local n = math.min(size, #entry.buffer)
  for r = 1, n do
    local raw, row = entry.buffer[r], {}
    for c, column in ipairs(columns) do
      row[c] = types.render(raw[c], column.type, cjson.null)
    end
    rows[r] = row
  end
  table.move(entry.buffer, n + 1, #entry.buffer + n, 1)
  entry.served = entry.served + n
  local names = {}
  for c, column in ipairs(columns) do
    names[c] = column.name
  end
  local page = { columns = names, rows = rows,
                 next_token = #entry.buffer > 0 and tostring(entry.served) or nil }
  entry.last_page = { offset = offset, page = page }
  return page
end

function Engine:results(id, next_token, max_rows)
  local page, err = read_page(self, id, next_token, max_rows)
  if not page then
    return nil, final_error(err)
  end
  return page
end

function Engine:stop(id)
  local entry = self.queries[id]
  if not entry then
    return nil, final_error(unknown_reason(id))
  end
  if entry.cursor then
    entry.cursor:close()
  end
  entry.buffer = {}
  if entry.state ~= "SUCCEEDED" and entry.state ~= "FAILED" then
    entry.state = "CANCELLED"
  end
  return true
end

-- The SQLite text a query was translated to (for --explain and the specs).
function Engine:translated(id)
  local entry = self.queries[id]
  return entry and entry.translated
end

-- Closes the database; the engine cannot be used afterwards.
function Engine:close()
  for _, entry in pairs(self.queries) do
    if entry.cursor then
      entry.cursor:close()
    end
  end
  self.db:close()
end

return engine
