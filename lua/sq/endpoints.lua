-- Where AWS requests go: the region and the endpoint URL of each service.
--
-- Region: AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region, then the region of
-- the configuration file (athena.region). Endpoint: AWS_ENDPOINT_URL_<SERVICE>, then
-- AWS_ENDPOINT_URL, else https://{service}.{region}.amazonaws.com (.amazonaws.com.cn in
-- China). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns both overrides off.
-- TODO(endpoints): the SDKs also read endpoint_url from the profile and from [services NAME]
-- sections of the config file; only the environment variables are honoured here.
local http = require("host.http")

local endpoints = {}

-- An environment given as nil (the process environment), a table or a function; empty values
-- count as unset.
local function getter(env)
  local get
  if env == nil then
    get = os.getenv
  elseif type(env) == "function" then
    get = env
  else
    get = function(name) return env[name] end
  end
  return function(name)
    local value = get(name)
    if value == "" then
      return nil
    end
    return value
  end
end

endpoints.getter = getter

-- check_region(region) -> true | nil, reason
-- A region is two letters, one or more words and a number: us-east-1, us-gov-west-1, cn-north-1.
function endpoints.check_region(region)
  if type(region) ~= "string" then
    return nil, "a region must be a string"
  end
  local parts = {}
  for part in (region .. "-"):gmatch("([^-]*)-") do
    parts[#parts + 1] = part
  end
  local valid = #parts >= 3 and parts[1]:match("^[a-z][a-z]$") ~= nil
    and parts[#parts]:match("^%d+$") ~= nil
  for i = 2, #parts - 1 do
    valid = valid and parts[i]:match("^[a-z]+$") ~= nil
  end
  if not valid then
    return nil, ('invalid AWS region "%s": expected a name such as us-east-1 or eu-west-2')
      :format(region)
  end
  return true
end

-- find_region(env, profile_region, configured) -> region, source | nil, message
function endpoints.find_region(env, profile_region, configured)
  local get = getter(env)
  local candidates = {
    { get("AWS_REGION"), "AWS_REGION" },
    { get("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION" },
    { profile_region ~= "" and profile_region or nil, "the AWS profile's region" },
    { configured ~= "" and configured or nil, "the configuration (athena.region)" },
  }
  for _, candidate in ipairs(candidates) do
    local region, source = candidate[1], candidate[2]
    if region ~= nil then
      local ok, reason = endpoints.check_region(region)
      if not ok then
        return nil, ("%s (from %s)"):format(reason, source)
      end
      return region, source
    end
  end
  return nil, "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), a region in the"
    .. " AWS profile, or athena.region in the configuration"
end

-- parse_url(url) -> { scheme, host, port, path } | nil, reason
-- An endpoint URL is http(s)://host[:port][/path], with no user, query or fragment.
function endpoints.parse_url(url)
  if type(url) ~= "string" then
    return nil, "it is not a string"
  end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if scheme == nil then
    return nil, "it needs a scheme: http:// or https://"
  end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, ('scheme "%s" is not supported: use https://'):format(scheme)
  end
  if rest:find("[?#]") then
    return nil, "an endpoint URL takes no query or fragment"
  end
  local authority, path = rest:match("^([^/]*)(.*)$")
  if authority:find("@", 1, true) then
    return nil, "an endpoint URL takes no user name or password"
  end
  local host, port = authority:match("^(%[[%x:.]+%])(.*)$")
  if host == nil then
    host, port = authority:match("^([^:]*)(.*)$")
    local valid = host:match("^[%w][%w.-]*$") ~= nil and not host:find("..", 1, true)
      and not host:match("[.-]$")
    if not valid then
      return nil, "it needs a host name or address"
    end
  end
  local number
  if port ~= "" then
    number = tonumber(port:match("^:(%d+)$"))
    if number == nil or number < 1 or number > 65535 then
      return nil, "the port must be a number from 1 to 65535"
    end
  end
  if path:find("%s") then
    return nil, "the path must not contain spaces"
  end
  path = path:gsub("/+$", "")
  host = host:lower()
  if scheme == "http" and not http.plain_http_allowed(host) then
    return nil, ("plain http:// is allowed only for loopback servers, not for %s: use https://")
      :format(host)
  end
  return { scheme = scheme, host = host, port = number, path = path }
end

-- The text of a parsed URL, without a trailing slash.
local function format_url(parsed)
  local port = parsed.port and (":" .. parsed.port) or ""
  return parsed.scheme .. "://" .. parsed.host .. port .. parsed.path
end

endpoints.format_url = format_url

-- The environment variable that overrides one service's endpoint: AWS_ENDPOINT_URL_ATHENA.
function endpoints.override_variable(service)
  return "AWS_ENDPOINT_URL_" .. service:upper():gsub("[%s%-]", "_")
end

-- resolve(service, region, env) -> url, source | nil, message
-- 'source' names the variable the URL came from, or "default".
function endpoints.resolve(service, region, env)
  if type(service) ~= "string" or not service:match("^[a-z][a-z0-9-]*$") then
    return nil, ("invalid service name %q"):format(tostring(service))
  end
  local ok, reason = endpoints.check_region(region)
  if not ok then
    return nil, reason
  end
  local get = getter(env)
  local ignore = (get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") or ""):lower() == "true"
  if not ignore then
    for _, variable in ipairs({ endpoints.override_variable(service), "AWS_ENDPOINT_URL" }) do
      local value = get(variable)
      if value ~= nil then
        local parsed, why = endpoints.parse_url(value)
        if parsed == nil then
          if why:find("user name", 1, true) then
            return nil, ("%s is not a valid endpoint URL: %s"):format(variable, why)
          end
          return nil, ('%s is not a valid endpoint URL ("%s"): %s'):format(variable, value, why)
        end
        return format_url(parsed), variable
      end
    end
  end
  local suffix = region:match("^cn%-") and "amazonaws.com.cn" or "amazonaws.com"
  return ("https://%s.%s.%s"):format(service, region, suffix), "default"
end

return endpoints
