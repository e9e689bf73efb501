-- Regions and endpoint URLs.
local endpoints = require("sq.endpoints")

describe("sq.endpoints", function()
  describe("resolve", function()
    it("builds https://{service}.{region}.amazonaws.com", function()
      assert.are.same({ "https://athena.eu-west-1.amazonaws.com", "default" },
        { endpoints.resolve("athena", "eu-west-1", {}) })
      assert.are.same({ "https://kinesis.us-gov-west-1.amazonaws.com", "default" },
        { endpoints.resolve("kinesis", "us-gov-west-1", {}) })
    end)

    it("uses amazonaws.com.cn for China regions", function()
      assert.are.equal("https://athena.cn-north-1.amazonaws.com.cn",
        endpoints.resolve("athena", "cn-north-1", {}))
    end)

    it("prefers AWS_ENDPOINT_URL_<SERVICE> to AWS_ENDPOINT_URL", function()
      local env = { AWS_ENDPOINT_URL = "https://vpce-1.example.com",
        AWS_ENDPOINT_URL_KINESIS = "http://127.0.0.1:4567/" }
      assert.are.same({ "http://127.0.0.1:4567", "AWS_ENDPOINT_URL_KINESIS" },
        { endpoints.resolve("kinesis", "us-east-1", env) })
      assert.are.same({ "https://vpce-1.example.com", "AWS_ENDPOINT_URL" },
        { endpoints.resolve("athena", "us-east-1", env) })
    end)

    it("ignores the overrides when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true", function()
      local env = { AWS_ENDPOINT_URL = "https://vpce-1.example.com",
        AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true" }
      assert.are.equal("https://athena.us-east-1.amazonaws.com",
        endpoints.resolve("athena", "us-east-1", env))
    end)

    it("names the variable of a malformed endpoint URL and says what is wrong", function()
      local cases = {
        { "htp//athena", 'AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL ("htp//athena"):'
          .. " it needs a scheme: http:// or https://" },
        { "ftp://example.com", 'AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL'
          .. ' ("ftp://example.com"): scheme "ftp" is not supported: use https://' },
        { "https://example.com/?x=1", 'AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL'
          .. ' ("https://example.com/?x=1"): an endpoint URL takes no query or fragment' },
        { "https://:443", 'AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL ("https://:443"):'
          .. " it needs a host name or address" },
        { "https://example.com:99999", "AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL"
          .. ' ("https://example.com:99999"): the port must be a number from 1 to 65535' },
        { "http://athena.example.com", "AWS_ENDPOINT_URL_ATHENA is not a valid endpoint URL"
          .. ' ("http://athena.example.com"): plain http:// is allowed only for loopback'
          .. " servers, not for athena.example.com: use https://" },
        { "https://user:secret@example.com", "AWS_ENDPOINT_URL_ATHENA is not a valid endpoint"
          .. " URL: an endpoint URL takes no user name or password" },
      }
      for _, case in ipairs(cases) do
        assert.are.same({ nil, case[2] },
          { endpoints.resolve("athena", "us-east-1", { AWS_ENDPOINT_URL_ATHENA = case[1] }) })
      end
    end)

    it("accepts IPv6 loopback and names with a port and a path", function()
      assert.are.equal("http://[::1]:4566",
        endpoints.resolve("athena", "us-east-1", { AWS_ENDPOINT_URL = "http://[::1]:4566" }))
      assert.are.equal("https://proxy.example.com:8443/aws",
        endpoints.resolve("athena", "us-east-1",
          { AWS_ENDPOINT_URL = "HTTPS://Proxy.Example.com:8443/aws/" }))
    end)

    it("rejects a malformed region", function()
      assert.are.same({ nil, 'invalid AWS region "us_east_1": expected a name such as us-east-1'
        .. " or eu-west-2" }, { endpoints.resolve("athena", "us_east_1", {}) })
    end)
  end)

  describe("check_region", function()
    it("accepts the shapes of real regions", function()
      for _, region in ipairs({ "us-east-1", "eu-central-2", "ap-southeast-4", "us-gov-west-1",
        "cn-northwest-1", "us-iso-east-1", "il-central-1" }) do
        assert.is_true(endpoints.check_region(region), region)
      end
    end)

    it("rejects anything else", function()
      for _, region in ipairs({ "", "us-east", "US-EAST-1", "useast1", "us-east-1a", "u-east-1",
        "us--east-1", "us-east-1 ", "-us-east-1", "us-3ast-1" }) do
        local ok, err = endpoints.check_region(region)
        assert.is_nil(ok, region)
        assert.are.equal(('invalid AWS region "%s": expected a name such as us-east-1'
          .. " or eu-west-2"):format(region), err)
      end
    end)
  end)

  describe("find_region", function()
    it("takes AWS_REGION, then AWS_DEFAULT_REGION, the profile, the configuration", function()
      local env = { AWS_REGION = "eu-west-1", AWS_DEFAULT_REGION = "eu-west-2" }
      assert.are.same({ "eu-west-1", "AWS_REGION" },
        { endpoints.find_region(env, "eu-west-3", "eu-north-1") })
      env.AWS_REGION = nil
      assert.are.same({ "eu-west-2", "AWS_DEFAULT_REGION" },
        { endpoints.find_region(env, "eu-west-3", "eu-north-1") })
      assert.are.same({ "eu-west-3", "the AWS profile's region" },
        { endpoints.find_region({}, "eu-west-3", "eu-north-1") })
      assert.are.same({ "eu-north-1", "the configuration (athena.region)" },
        { endpoints.find_region({ AWS_REGION = "" }, nil, "eu-north-1") })
    end)

    it("names where a bad region came from", function()
      assert.are.same({ nil, 'invalid AWS region "Frankfurt": expected a name such as us-east-1'
        .. " or eu-west-2 (from AWS_DEFAULT_REGION)" },
        { endpoints.find_region({ AWS_DEFAULT_REGION = "Frankfurt" }) })
    end)

    it("says where to set a region when there is none", function()
      assert.are.same({ nil, "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION),"
        .. " a region in the AWS profile, or athena.region in the configuration" },
        { endpoints.find_region({}, nil, nil) })
    end)
  end)
end)
