-- The AWS shared configuration and credentials files (~/.aws/config, ~/.aws/credentials).
--
-- Both are INI files: "[section]" headers, "key = value" lines, whole-line comments starting
-- with "#" or ";". An indented line continues the key above it: after "key =" with no value it
-- holds a nested setting ("s3 =" then "  max_concurrent_requests = 20" gives
-- s3 = { max_concurrent_requests = "20" }); after a key with a value it adds a line to that value.
--
-- Keys are lower-cased, as the AWS CLI reads them; section names are kept as written.
-- Messages name the file and line but never quote a line: these files hold secrets.
local ini = {}

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- parse(text, name) -> sections | nil, message
-- sections[name] = { key = value or { nested_key = value } }; a section named twice is merged,
-- the later value of a key winning.
function ini.parse(text, name)
  name = name or "(text)"
  local sections = {}
  local section, last_key
  local number = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    number = number + 1
    line = line:gsub("\r$", "")
    if number == 1 then
      line = line:gsub("^\239\187\191", "") -- a UTF-8 byte order mark
    end
    local indented = line:match("^[ \t]") ~= nil
    local content = trim(line)
    if content == "" or content:match("^[#;]") then -- luacheck: ignore 542
      -- blank line or comment
    elseif content:match("^%[") then
      local header = content:match("^%[(.*)%]$")
      if header == nil or trim(header) == "" then
        return nil, ("%s:%d: a section header must look like [name]"):format(name, number)
      end
      header = trim(header):gsub("%s+", " ")
      sections[header] = sections[header] or {}
      section, last_key = sections[header], nil
    elseif indented and section ~= nil and type(section[last_key]) == "string" then
      section[last_key] = section[last_key] .. "\n" .. content
    else
      local key, value = content:match("^([^=]-)%s*=%s*(.*)$")
      if key == nil or key == "" then
        return nil, ("%s:%d: expected [section] or key = value"):format(name, number)
      end
      if section == nil then
        return nil, ("%s:%d: a setting must come after a [section] header"):format(name, number)
      end
      key = key:lower() -- as the AWS CLI reads them
      if indented and type(section[last_key]) == "table" then
        section[last_key][key] = value
      else
        section[key] = value == "" and {} or value
        last_key = key
      end
    end
  end
  -- a key given "key =" with nothing nested under it is an empty string, not a table
  for _, settings in pairs(sections) do
    for key, value in pairs(settings) do
      if type(value) == "table" and next(value) == nil then
        settings[key] = ""
      end
    end
  end
  return sections
end

-- read(path) -> sections | nil, message, missing
-- 'missing' is true when the file does not exist, which is not an error for an optional file.
function ini.read(path)
  local file, err, code = io.open(path, "rb")
  if file == nil then
    local ENOENT = 2
    return nil, ("cannot read %s: %s"):format(path, (err:gsub("^.-: ", ""))), code == ENOENT
  end
  local text = file:read("a")
  file:close()
  if text == nil then
    return nil, ("cannot read %s"):format(path), false
  end
  return ini.parse(text, path)
end

return ini
