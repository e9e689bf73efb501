-- host.fs: the files under a folder, without LuaFileSystem or find(1).
local fs = require("host.fs")

local function tree(paths)
  local dir = os.tmpname()
  os.remove(dir)
  for _, path in ipairs(paths) do
    os.execute("mkdir -p '" .. dir .. "/" .. path:match("^(.*)/") .. "' 2>/dev/null")
    local f = assert(io.open(dir .. "/" .. path, "w"))
    f:write("x")
    f:close()
  end
  return dir
end

local function paths(listing)
  local out = {}
  for i, file in ipairs(listing) do
    out[i] = file.path .. ":" .. file.size
  end
  table.sort(out)
  return out
end

describe("host.fs.files", function()
  it("lists the regular files of nested folders, skipping hidden names", function()
    local dir = tree({ "a/q.lua", "a/b/r.lua", "a/.git/x", "a/.hidden.lua", "a/_tmp/y" })
    assert.are.same({ "_tmp/y:1", "b/r.lua:1", "q.lua:1" }, paths(fs.files(dir .. "/a")))
    assert.are.same({ "b/r.lua:1", "q.lua:1" }, paths(fs.files(dir .. "/a", "._")))
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("reports a folder that cannot be opened", function()
    assert.are.same({ nil, "cannot open the folder: No such file or directory" },
      { fs.files("/nonexistent/folder") })
  end)

  it("refuses a symbolic link loop instead of walking it forever", function()
    local dir = tree({ "a/q.lua" })
    os.execute("ln -s .. '" .. dir .. "/a/loop'")
    local listing, err = fs.files(dir .. "/a")
    os.execute("rm -rf '" .. dir .. "'")
    assert.is_nil(listing)
    assert.truthy(err:find("folders nested more than 16 deep (a symbolic link loop?)", 1, true))
  end)
end)
