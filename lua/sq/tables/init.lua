-- Declared table schemas for the local engine.
--
-- A table's schema is found, in this order, in:
--   DATA/NAME/schema.json          next to the data
--   ROOT/conf/tables/NAME.json     in the project's configuration
--   a built-in schema of that name (cloudtrail, cloudtrail_streamalert)
-- A schema file holds either {"like": "cloudtrail_streamalert"} (a built-in under another
-- name) or {"columns": [{"name": "user", "type": "string"}, ...], "partitions": [...]} with
-- Athena's type names (string, bigint, double, boolean, timestamp, date, array<...>,
-- map<...>, struct<...>). Partition columns are strings unless declared; any key=value
-- folder under the table's folder becomes one.
local cjson = require("cjson")
local types = require("sq.sql.types")

local tables = {}

local BUILTIN = {
  cloudtrail = "sq.tables.cloudtrail",
  cloudtrail_aws = "sq.tables.cloudtrail",
  cloudtrail_streamalert = "sq.tables.cloudtrail_streamalert",
}

local function read_file(path)
  local file = io.open(path, "rb")
  if not file then
    return nil
  end
  local text = file:read("a")
  file:close()
  return text
end

local function check_columns(list, source, what)
  if list == nil then
    return {}
  end
  if type(list) ~= "table" then
    return nil, string.format("%s: %s must be a list of { name, type }", source, what)
  end
  local columns = {}
  for i, column in ipairs(list) do
    if type(column) ~= "table" or type(column.name) ~= "string" then
      return nil, string.format("%s: %s[%d] needs a name", source, what, i)
    end
    local name = column.name:lower()
    if not name:match("^[%a_][%w_]*$") then
      return nil, string.format("%s: %s[%d]: invalid column name %q", source, what, i, column.name)
    end
    local t, err = types.parse(column.type or "string")
    if not t then
      return nil, string.format("%s: %s[%d] (%s): %s", source, what, i, name, err)
    end
    local derive = column.derive
    if derive ~= nil and (type(derive) ~= "table" or type(derive.from) ~= "string"
      or type(derive.format) ~= "string") then
      return nil, string.format("%s: %s[%d] (%s): derive needs from and format", source, what,
        i, name)
    end
    columns[i] = { name = name, type = t, derive = derive, declared = column.type or "string" }
  end
  return columns
end

-- A schema from a definition table (a built-in module or a decoded schema file).
function tables.from_definition(definition, source, name)
  if type(definition) ~= "table" then
    return nil, source .. ": a schema must be a JSON object"
  end
  if definition.like ~= nil then
    local module = BUILTIN[definition.like]
    if not module then
      return nil, string.format("%s: no built-in schema %q (known: cloudtrail, "
        .. "cloudtrail_streamalert)", source, tostring(definition.like))
    end
    return tables.from_definition(require(module), source, name)
  end
  local columns, err = check_columns(definition.columns, source, "columns")
  if not columns then
    return nil, err
  end
  if #columns == 0 then
    return nil, source .. ": a schema needs at least one column"
  end
  local partitions
  partitions, err = check_columns(definition.partitions, source, "partitions")
  if not partitions then
    return nil, err
  end
  local seen = {}
  for _, column in ipairs(columns) do
    seen[column.name] = true
  end
  for _, column in ipairs(partitions) do
    if seen[column.name] then
      return nil, string.format("%s: column %q is declared twice", source, column.name)
    end
  end
  return { name = name, source = source, columns = columns, partitions = partitions }
end

-- The schema of table `name` whose files are in folder `dir`; `root` is the project root.
function tables.schema(name, dir, root)
  local candidates = { dir .. "/schema.json" }
  if root then
    candidates[2] = root .. "/conf/tables/" .. name .. ".json"
  end
  for _, path in ipairs(candidates) do
    local text = read_file(path)
    if text then
      local ok, definition = pcall(cjson.decode, text)
      if not ok then
        return nil, string.format("%s: invalid JSON: %s", path, definition)
      end
      return tables.from_definition(definition, path, name)
    end
  end
  if BUILTIN[name] then
    return tables.from_definition(require(BUILTIN[name]), "built-in schema " .. name, name)
  end
  return nil, string.format("table %q has no schema: add %s/schema.json (or conf/tables/%s.json)"
    .. ", or name the folder after a built-in table (cloudtrail)", name, dir, name)
end

return tables
