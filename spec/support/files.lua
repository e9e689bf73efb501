-- Small file and shell helpers shared by the spec support modules.
local files = {}

-- Quotes a string for /bin/sh.
function files.quote(text)
  return "'" .. tostring(text):gsub("'", "'\\''") .. "'"
end

-- A whole file, or nil when it cannot be opened.
function files.read(path)
  local file = io.open(path, "rb")
  if not file then
    return nil
  end
  local text = file:read("a")
  file:close()
  return text
end

-- Writes a whole file; raises when it cannot.
function files.write(path, text)
  local file = assert(io.open(path, "wb"))
  assert(file:write(text))
  file:close()
end

return files
