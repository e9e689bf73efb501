-- The reader of the AWS shared config and credentials files.
local ini = require("sq.ini")

describe("sq.ini", function()
  it("reads sections of key = value lines, skipping comments and blank lines", function()
    local sections = assert(ini.parse(table.concat({
      "# a comment",
      "[default]",
      "aws_access_key_id = AKIDEXAMPLE",
      "; another comment",
      "",
      "region=eu-west-1",
      "[profile  deploy ]",
      "role_arn = arn:aws:iam::123456789012:role/deploy",
    }, "\n")))
    assert.are.same({
      default = { aws_access_key_id = "AKIDEXAMPLE", region = "eu-west-1" },
      ["profile deploy"] = { role_arn = "arn:aws:iam::123456789012:role/deploy" },
    }, sections)
  end)

  it("nests indented settings under a key with no value", function()
    local sections = assert(ini.parse("[default]\ns3 =\n  max_concurrent_requests = 20\n"
      .. "  addressing_style = path\nregion = us-east-1\n"))
    assert.are.same({ s3 = { max_concurrent_requests = "20", addressing_style = "path" },
      region = "us-east-1" }, sections.default)
  end)

  it("continues a value on indented lines and accepts CRLF line ends", function()
    local sections = assert(ini.parse("[a]\r\nkey = one\r\n  two\r\nempty =\r\n"))
    assert.are.same({ key = "one\ntwo", empty = "" }, sections.a)
  end)

  it("lower-cases keys but not section names", function()
    local sections = assert(ini.parse("[Profile Prod]\nAWS_Access_Key_ID = AKID\n"))
    assert.are.same({ ["Profile Prod"] = { aws_access_key_id = "AKID" } }, sections)
  end)

  it("merges a section named twice, the later value winning", function()
    local sections = assert(ini.parse("[a]\nx = 1\ny = 2\n[b]\n[a]\nx = 3\n"))
    assert.are.same({ a = { x = "3", y = "2" }, b = {} }, sections)
  end)

  it("names the file and line of a malformed line without quoting it", function()
    local sections, err = ini.parse("[default]\naws_secret_access_key wJalrXUtnFEMI\n",
      "/home/me/.aws/credentials")
    assert.is_nil(sections)
    assert.are.equal("/home/me/.aws/credentials:2: expected [section] or key = value", err)
  end)

  it("refuses a setting before any section and an empty section name", function()
    assert.are.same({ nil, "f:1: a setting must come after a [section] header" },
      { ini.parse("key = value\n", "f") })
    assert.are.same({ nil, "f:2: a section header must look like [name]" },
      { ini.parse("[a]\n[ ]\n", "f") })
  end)

  it("says when a file does not exist, apart from other read errors", function()
    local sections, err, missing = ini.read("/nonexistent/streamquery/config")
    assert.is_nil(sections)
    assert.are.equal("cannot read /nonexistent/streamquery/config: No such file or directory", err)
    assert.is_true(missing)
  end)
end)
