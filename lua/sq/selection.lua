-- Which queries a run executes.
--
--   selection.select(set, { tags = { "hourly" } })      queries carrying ALL the tags
--   selection.select(set, { names = { "a", "b" } })     queries by name
--   selection.select(set, {})                           every query
--
-- Tags and names together select the named queries that also carry the
-- tags. The result keeps the order of set.list.
local selection = {}

-- True when query carries every tag of tags.
function selection.matches(query, tags)
  for _, wanted in ipairs(tags or {}) do
    local found = false
    for _, tag in ipairs(query.tags) do
      if tag == wanted then
        found = true
        break
      end
    end
    if not found then
      return false
    end
  end
  return true
end

-- Returns the selected queries, or nil and a message when a name given in
-- options.names is not a query of the set.
function selection.select(set, options)
  options = options or {}
  local names = options.names or {}
  local wanted = nil
  if #names > 0 then
    wanted = {}
    for _, name in ipairs(names) do
      if set.by_name[name] == nil then
        return nil, string.format("no query is named %q", name)
      end
      wanted[name] = true
    end
  end
  local selected = {}
  for _, query in ipairs(set.list) do
    if (wanted == nil or wanted[query.name]) and selection.matches(query, options.tags) then
      selected[#selected + 1] = query
    end
  end
  return selected
end

-- The queries that no pack runs: a pack named P runs with the tags { P },
-- so a query is scheduled when one of its tags is a pack name.
function selection.unscheduled(set, pack_names)
  local packs = {}
  for _, name in ipairs(pack_names or {}) do
    packs[name] = true
  end
  local out = {}
  for _, query in ipairs(set.list) do
    local scheduled = false
    for _, tag in ipairs(query.tags) do
      scheduled = scheduled or packs[tag] == true
    end
    if not scheduled then
      out[#out + 1] = query
    end
  end
  return out
end

-- The packs that run no query, in the order of pack_names.
function selection.empty_packs(set, pack_names)
  local out = {}
  for _, pack in ipairs(pack_names or {}) do
    if #selection.select(set, { tags = { pack } }) == 0 then
      out[#out + 1] = pack
    end
  end
  return out
end

-- Splits "a,b , c" into { "a", "b", "c" }; returns nil and a message when a
-- tag is empty.
function selection.parse_tags(text)
  local tags = {}
  for piece in (text .. ","):gmatch("([^,]*),") do
    local tag = piece:match("^%s*(.-)%s*$")
    if tag == "" then
      return nil, string.format("empty tag in %q", text)
    end
    tags[#tags + 1] = tag
  end
  return tags
end

-- Why a selection is empty, for a warning.
function selection.describe_nothing(tags, names)
  local text = string.format("no query carries all of the tags [%s]", table.concat(tags, ", "))
  if names and #names > 0 then
    text = text .. " among the queries named by --query (" .. table.concat(names, ", ") .. ")"
  end
  return text
end

return selection
