-- AWS credentials, found where the AWS SDKs look for them, in this order:
--
--   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
--   2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (EKS), through STS
--      AssumeRoleWithWebIdentity
--   3. the profile AWS_PROFILE (else "default") of the shared credentials and config files
--      (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE): role_arn with source_profile,
--      credential_source or web_identity_token_file (STS), static keys, credential_process
--   4. the container credentials endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI,
--      with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)
--   5. EC2 instance metadata (IMDSv2) at AWS_EC2_METADATA_SERVICE_ENDPOINT, unless
--      AWS_EC2_METADATA_DISABLED=true
--
-- local provider = credentials.chain{ env = nil | table | function, http = nil | host.http client,
--                                     region = "eu-west-1", now = nil | function }
-- provider:get() -> { access_key, secret_key, session_token, expiration, source }
--                 | nil, message, retryable
-- Credentials are cached and those that expire are fetched again 5 minutes before they do.
-- No message ever holds a secret: no key, token, or line of a credentials file.
local cjson = require("cjson.safe")
local clock = require("host.clock")
local http = require("host.http")
local endpoints = require("sq.endpoints")
local ini = require("sq.ini")

local credentials = {}

credentials.REFRESH_MARGIN = 300 -- seconds before expiry when credentials are fetched again

local STS_VERSION = "2011-06-15"
local CONTAINER_HOST = "http://169.254.170.2"
local METADATA_ENDPOINT = "http://169.254.169.254"
local METADATA_ENDPOINT_IPV6 = "http://[fd00:ec2::254]"
local METADATA_TIMEOUT = 1.0
local CONTAINER_TIMEOUT = 2.0
local STS_TIMEOUT = 10.0
local RETRYABLE_KINDS = { connect = true, refused = true, reset = true, timeout = true }
local STS_RETRYABLE_CODES = { Throttling = true, ThrottlingException = true,
  RequestLimitExceeded = true, IDPCommunicationError = true, InternalFailure = true,
  ServiceUnavailable = true }

-- Credentials print as their source only.
local Credentials = {
  __tostring = function(c) return ("credentials from %s"):format(c.source) end,
}

local function make(access_key, secret_key, session_token, expiration, source)
  return setmetatable({ access_key = access_key, secret_key = secret_key,
    session_token = session_token, expiration = expiration, source = source }, Credentials)
end

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- parse_time("2024-01-02T03:04:05Z") -> epoch; fractions of seconds and offsets are accepted.
function credentials.parse_time(text)
  if type(text) ~= "string" then
    return nil
  end
  local date, time, zone = text:match("^(%d%d%d%d%-%d%d%-%d%d)[Tt ](%d%d:%d%d:%d%d)%.?%d*(.*)$")
  if date == nil then
    return nil
  end
  local epoch = clock.parse(date .. "T" .. time .. "Z")
  if epoch == nil then
    return nil
  end
  if zone == "Z" or zone == "z" then
    return epoch
  end
  local sign, hours, minutes = zone:match("^([+-])(%d%d):?(%d%d)$")
  if sign == nil then
    return nil
  end
  local offset = tonumber(hours) * 3600 + tonumber(minutes) * 60
  return sign == "+" and epoch - offset or epoch + offset
end

-- The last line a failing command wrote to stderr, shortened, with anything that looks like a
-- key or token blanked out.
local function stderr_hint(text)
  local last
  for line in (text or ""):gmatch("[^\r\n]+") do
    if line:match("%S") then
      last = trim(line)
    end
  end
  if last == nil then
    return ""
  end
  last = last:gsub("[%w/+=]+", function(word)
    return #word >= 20 and "[redacted]" or word
  end)
  if #last > 200 then
    last = last:sub(1, 200) .. "..."
  end
  return ": " .. last
end

local function shell_quote(text)
  return "'" .. text:gsub("'", "'\\''") .. "'"
end

-- Runs a command through the shell: stdout, whether it succeeded, "exit" or "signal", the code,
-- and what it wrote to stderr.
local function run_command(command)
  local stderr_path = os.tmpname()
  local pipe = io.popen(command .. " 2>" .. shell_quote(stderr_path), "r")
  if pipe == nil then
    os.remove(stderr_path)
    return nil, false, "exit", 127, "cannot start the shell"
  end
  local output = pipe:read("a")
  local ok, how, code = pipe:close()
  local file = io.open(stderr_path, "rb")
  local stderr = file and file:read("a") or ""
  if file then
    file:close()
  end
  os.remove(stderr_path)
  return output, ok == true, how, code, stderr
end

local function form_encode(params)
  local keys = {}
  for key in pairs(params) do
    keys[#keys + 1] = key
  end
  table.sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do
    local value = tostring(params[key]):gsub("[^%w%-._~]", function(c)
      return ("%%%02X"):format(c:byte())
    end)
    parts[#parts + 1] = key .. "=" .. value
  end
  return table.concat(parts, "&")
end

local XML_ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', apos = "'" }

local function xml_text(text)
  return (text:gsub("&(#?[%w]+);", function(entity)
    if XML_ENTITIES[entity] then
      return XML_ENTITIES[entity]
    end
    local code = entity:match("^#x(%x+)$")
    code = code and tonumber(code, 16) or tonumber(entity:match("^#(%d+)$") or "")
    return code and utf8.char(code) or nil
  end))
end

local function xml_field(xml, name)
  local value = xml:match("<" .. name .. ">(.-)</" .. name .. ">")
  return value and xml_text(value)
end

local function read_token_file(path, variable)
  local file, err = io.open(path, "rb")
  if file == nil then
    return nil, ("cannot read the token file %s (%s): %s"):format(path, variable,
      (err:gsub("^.-: ", "")))
  end
  local token = trim(file:read("a") or "")
  file:close()
  if token == "" then
    return nil, ("the token file %s (%s) is empty"):format(path, variable)
  end
  return token
end

local Provider = {}
Provider.__index = Provider

-- chain(options) -> a provider that tries every source in the SDKs' order.
function credentials.chain(options)
  options = options or {}
  return setmetatable({
    env = endpoints.getter(options.env),
    raw_env = options.env,
    http_client = options.http,
    ca_file = options.ca_file,
    region = options.region,
    now = options.now or clock.now,
    run = options.run or run_command,
  }, Provider)
end

-- static{ access_key, secret_key, session_token } -> a provider that always gives these.
function credentials.static(given)
  assert(type(given) == "table" and given.access_key and given.secret_key,
    "credentials.static needs access_key and secret_key")
  local fixed = make(given.access_key, given.secret_key, given.session_token, nil, "static")
  return {
    get = function() return fixed end,
    invalidate = function() end,
  }
end

function Provider:perform(request)
  if self.http_client == nil then
    self.http_client = http.new{ concurrency = 2, connect_timeout = 1.0, timeout = STS_TIMEOUT,
      ca_file = self.ca_file or self.env("SSL_CERT_FILE") }
  end
  return self.http_client:perform{ request }[1]
end

-- The credentials in a JSON document from the container endpoint, instance metadata or a
-- credential process.
local function from_json(data, source)
  if type(data) ~= "table" or type(data.AccessKeyId) ~= "string"
    or type(data.SecretAccessKey) ~= "string" then
    return nil
  end
  local token = data.Token or data.SessionToken
  local expiration = nil
  if data.Expiration ~= nil then
    expiration = credentials.parse_time(data.Expiration)
    if expiration == nil then
      return nil
    end
  end
  return make(data.AccessKeyId, data.SecretAccessKey, type(token) == "string" and token or nil,
    expiration, source)
end

-- One STS call (query protocol), signed with 'signer' unless it is nil.
function Provider:sts(action, params, signer, region, source)
  region = region or self.region or "us-east-1"
  local base, err = endpoints.resolve("sts", region, self.raw_env)
  if base == nil then
    return nil, ("STS %s: %s"):format(action, err), true, false
  end
  local url = endpoints.parse_url(base)
  local host = url.host .. (url.port and (":" .. url.port) or "")
  local path = url.path == "" and "/" or url.path
  params.Action, params.Version = action, STS_VERSION
  local body = form_encode(params)
  local headers = { { "Host", host },
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" } }
  if signer ~= nil then
    local signed = require("host.sigv4").sign{ method = "POST", path = path, query = "",
      headers = headers, body = body, access_key = signer.access_key,
      secret_key = signer.secret_key, session_token = signer.session_token,
      region = region, service = "sts", time = clock.now() }
    for _, header in ipairs(signed.headers) do
      headers[#headers + 1] = header
    end
  end
  local role = params.RoleArn and (" for " .. params.RoleArn) or ""
  local response = self:perform{ method = "POST", url = url.scheme .. "://" .. host .. path,
    headers = headers, body = body }
  if response.error then
    return nil, ("STS %s%s: %s"):format(action, role, response.error), true,
      RETRYABLE_KINDS[response.kind] == true
  end
  if response.status ~= 200 then
    local code = xml_field(response.body, "Code") or ("HTTP" .. response.status)
    local message = xml_field(response.body, "Message") or ""
    local request_id = xml_field(response.body, "RequestId") or response.headers["x-amzn-requestid"]
    return nil, ("STS %s%s failed: %s: %s (HTTP %d%s)"):format(action, role, code,
      message:sub(1, 300), response.status, request_id and (", request id " .. request_id) or ""),
      true,
      response.status >= 500 or STS_RETRYABLE_CODES[code] == true
  end
  local block = response.body:match("<Credentials>(.-)</Credentials>") or ""
  local key, secret = xml_field(block, "AccessKeyId"), xml_field(block, "SecretAccessKey")
  local token, expiration = xml_field(block, "SessionToken"), xml_field(block, "Expiration")
  if key == nil or secret == nil or token == nil then
    return nil, ("STS %s%s answered without credentials"):format(action, role), true, false
  end
  return make(key, secret, token, credentials.parse_time(expiration), source)
end

local function session_name()
  return "streamquery-" .. clock.now()
end

function Provider:web_identity(token_file, variable, role_arn, session, region, source)
  local token, err = read_token_file(token_file, variable)
  if token == nil then
    return nil, err, true, false
  end
  return self:sts("AssumeRoleWithWebIdentity", { RoleArn = role_arn,
    RoleSessionName = session or session_name(), WebIdentityToken = token }, nil, region, source)
end

-- 1. The environment variables.
function Provider:from_environment()
  local key, secret = self.env("AWS_ACCESS_KEY_ID"), self.env("AWS_SECRET_ACCESS_KEY")
  if key and secret then
    return make(key, secret, self.env("AWS_SESSION_TOKEN"), nil, "environment")
  end
  if key or secret then
    return nil, ("environment: %s is set but %s is not"):format(
      key and "AWS_ACCESS_KEY_ID" or "AWS_SECRET_ACCESS_KEY",
      key and "AWS_SECRET_ACCESS_KEY" or "AWS_ACCESS_KEY_ID"), true, false
  end
  return nil, "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): not set"
end

-- 2. Web identity named by the environment, as on EKS.
function Provider:from_web_identity()
  local file, role = self.env("AWS_WEB_IDENTITY_TOKEN_FILE"), self.env("AWS_ROLE_ARN")
  if file == nil and role == nil then
    return nil, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN): not set"
  end
  if file == nil or role == nil then
    return nil, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together",
      true, false
  end
  return self:web_identity(file, "AWS_WEB_IDENTITY_TOKEN_FILE", role,
    self.env("AWS_ROLE_SESSION_NAME"), nil, "web-identity")
end

-- The paths of the shared files, "~/" expanded.
function Provider:file_paths()
  local home = self.env("HOME") or ""
  local function expand(path)
    return (path:gsub("^~/", home .. "/"))
  end
  return expand(self.env("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"),
    expand(self.env("AWS_CONFIG_FILE") or "~/.aws/config")
end

-- Both shared files, parsed; a missing file is an empty one.
function Provider:read_files()
  local credentials_path, config_path = self:file_paths()
  local files = { credentials_path = credentials_path, config_path = config_path }
  for _, which in ipairs({ "credentials", "config" }) do
    local sections, err, missing = ini.read(files[which .. "_path"])
    if sections == nil and not missing then
      return nil, err
    end
    files[which] = sections or {}
  end
  return files
end

-- The settings of one profile: [profile NAME] (or [default]) of the config file, overridden by
-- [NAME] of the credentials file; nil when neither has it.
local function profile_settings(files, name)
  local config = files.config["profile " .. name]
  if name == "default" then
    config = files.config["default"] or config
  end
  local keys = files.credentials[name]
  if config == nil and keys == nil then
    return nil
  end
  local merged = {}
  for _, section in ipairs({ config or {}, keys or {} }) do
    for key, value in pairs(section) do
      merged[key] = value
    end
  end
  return merged
end

function Provider:profile_name()
  return self.env("AWS_PROFILE") or self.env("AWS_DEFAULT_PROFILE") or "default",
    self.env("AWS_PROFILE") ~= nil or self.env("AWS_DEFAULT_PROFILE") ~= nil
end

local function static_keys(settings, name)
  local key, secret = settings.aws_access_key_id, settings.aws_secret_access_key
  if key == nil and secret == nil then
    return nil
  end
  if key == nil or secret == nil or key == "" or secret == "" then
    return nil, ("profile %q needs both aws_access_key_id and aws_secret_access_key"):format(name)
  end
  local token = settings.aws_session_token
  return make(key, secret, token ~= "" and token or nil, nil, "profile " .. name)
end

-- Runs a credential_process and reads its JSON (Version 1).
function Provider:credential_process(command, name)
  local output, ok, how, code, stderr = self.run(command)
  local what = ("credential_process of profile %q"):format(name)
  if not ok then
    return nil, ("%s failed (%s %s)%s"):format(what, how == "signal" and "signal" or "exit status",
      tostring(code), stderr_hint(stderr)), true, false
  end
  local data = cjson.decode(output or "")
  if type(data) ~= "table" or data.Version ~= 1 then
    return nil, ('%s must print a JSON object with "Version": 1'):format(what), true, false
  end
  local found = from_json(data, "credential_process (profile " .. name .. ")")
  if found == nil then
    return nil, ("%s printed no usable AccessKeyId, SecretAccessKey and Expiration"):format(what),
      true, false
  end
  return found
end

local CREDENTIAL_SOURCES = {
  Environment = "from_environment",
  Ec2InstanceMetadata = "from_instance_metadata",
  EcsContainer = "from_container",
}

-- The credentials of profile 'name'.  'visiting' holds the profiles on the way here (to stop
-- source_profile loops); 'required' says the profile must exist and give credentials.
function Provider:from_profile_named(files, name, visiting, required)
  local settings = profile_settings(files, name)
  local where = ("%s or %s"):format(files.credentials_path, files.config_path)
  if settings == nil then
    if required then
      return nil, ("profile %q not found in %s"):format(name, where), true, false
    end
    return nil, ("shared files: profile %q not found in %s"):format(name, where)
  end
  if settings.role_arn then
    return self:assume_role_profile(files, name, settings, visiting)
  end
  if settings.sso_start_url or settings.sso_session or settings.sso_account_id
    or settings.sso_role_name then
    return nil, ("profile %q uses AWS IAM Identity Center (SSO), which this host does not"
      .. " support: give the profile a credential_process instead, for example"
      .. " credential_process = aws configure export-credentials --profile %s --format process"
      .. " (with the SSO settings moved to another profile)"):format(name, name), true, false
  end
  local keys, err = static_keys(settings, name)
  if keys or err then
    return keys, err, err ~= nil, false
  end
  if settings.credential_process and settings.credential_process ~= "" then
    return self:credential_process(settings.credential_process, name)
  end
  if required then
    return nil, ("profile %q has no credentials"):format(name), true, false
  end
  return nil, ("shared files: profile %q in %s has no credentials"):format(name, where)
end

function Provider:assume_role_profile(files, name, settings, visiting)
  local source = "assume-role (profile " .. name .. ")"
  if settings.mfa_serial then
    return nil, ("profile %q needs an MFA code (mfa_serial), which a scheduled job cannot give")
      :format(name), true, false
  end
  local signer, err, _, retryable
  if settings.source_profile then
    local parent = settings.source_profile
    if parent == name then
      signer, err = static_keys(settings, name)
      if signer == nil then
        return nil, err or ("profile %q is its own source_profile but has no keys"):format(name),
          true, false
      end
    elseif visiting[parent] then
      return nil, ("profiles %q and %q name each other as source_profile"):format(name, parent),
        true, false
    else
      visiting[name] = true
      signer, err, _, retryable = self:from_profile_named(files, parent, visiting, true)
      if signer == nil then
        return nil, ("source_profile %q of profile %q: %s"):format(parent, name, err), true,
          retryable
      end
    end
  elseif settings.credential_source then
    local method = CREDENTIAL_SOURCES[settings.credential_source]
    if method == nil then
      return nil, ("profile %q: credential_source must be Environment, Ec2InstanceMetadata or"
        .. " EcsContainer"):format(name), true, false
    end
    signer, err, _, retryable = self[method](self)
    if signer == nil then
      return nil, ("credential_source %s of profile %q: %s"):format(settings.credential_source,
        name, err), true, retryable
    end
  elseif settings.web_identity_token_file then
    return self:web_identity(settings.web_identity_token_file, "web_identity_token_file",
      settings.role_arn, settings.role_session_name, settings.region, source)
  else
    return nil, ("profile %q has role_arn but no source_profile, credential_source or"
      .. " web_identity_token_file"):format(name), true, false
  end
  return self:sts("AssumeRole", { RoleArn = settings.role_arn,
    RoleSessionName = settings.role_session_name or session_name(),
    ExternalId = settings.external_id, DurationSeconds = settings.duration_seconds },
    signer, settings.region, source)
end

-- 3. The shared credentials and config files.
function Provider:from_profile()
  local files, err = self:read_files()
  if files == nil then
    return nil, err, true, false
  end
  local name, explicit = self:profile_name()
  return self:from_profile_named(files, name, {}, explicit)
end

-- 4. The container credentials endpoint (ECS, EKS Pod Identity).
function Provider:from_container()
  local relative = self.env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
  local full = self.env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
  if relative == nil and full == nil then
    return nil, "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, _FULL_URI): not set"
  end
  local url, origin
  if relative then
    url = CONTAINER_HOST .. (relative:sub(1, 1) == "/" and "" or "/") .. relative
    origin = CONTAINER_HOST
  else
    local scheme, host = full:match("^(https?)://([^/?#]+)")
    if scheme == nil or (scheme == "http"
      and not http.plain_http_allowed((host:gsub(":%d+$", "")))) then
      return nil, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// URL or an http:// URL"
        .. " of a loopback or container-credentials address", true, false
    end
    url, origin = full, scheme .. "://" .. host
  end
  local token, err
  local token_file = self.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
  if token_file then
    token, err = read_token_file(token_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token == nil then
      return nil, err, true, false
    end
  else
    token = self.env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
  end
  if token and token:find("[\r\n]") then
    return nil, "the container authorization token must be one line", true, false
  end
  local response = self:perform{ method = "GET", url = url, timeout = CONTAINER_TIMEOUT,
    headers = token and { { "Authorization", token } } or {} }
  if response.error then
    return nil, ("container credentials: %s"):format(response.error), true,
      RETRYABLE_KINDS[response.kind] == true
  end
  local data = cjson.decode(response.body)
  if response.status ~= 200 then
    local message = type(data) == "table" and (data.message or data.Message) or ""
    return nil, ("container credentials endpoint %s answered HTTP %d%s"):format(origin,
      response.status, type(message) == "string" and message ~= ""
        and (": " .. message:sub(1, 200)) or ""), true, response.status >= 500
  end
  local found = from_json(data, "container")
  if found == nil then
    return nil, ("container credentials endpoint %s answered without credentials"):format(origin),
      true, false
  end
  return found
end

-- 5. EC2 instance metadata, IMDSv2 only.
function Provider:from_instance_metadata()
  if (self.env("AWS_EC2_METADATA_DISABLED") or ""):lower() == "true" then
    return nil, "EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED"
  end
  local base = self.env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
  if base then
    local parsed, why = endpoints.parse_url(base)
    if parsed == nil then
      return nil, ("AWS_EC2_METADATA_SERVICE_ENDPOINT is not a valid URL: %s"):format(why), true,
        false
    end
    base = endpoints.format_url(parsed)
  elseif (self.env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE") or ""):lower() == "ipv6" then
    base = METADATA_ENDPOINT_IPV6
  else
    base = METADATA_ENDPOINT
  end
  local where = "EC2 instance metadata at " .. base
  local response = self:perform{ method = "PUT", url = base .. "/latest/api/token",
    timeout = METADATA_TIMEOUT, headers = { { "X-aws-ec2-metadata-token-ttl-seconds", "21600" } } }
  if response.error then
    return nil, ("%s: no answer (%s)"):format(where, response.kind)
  end
  if response.status ~= 200 then
    return nil, ("%s: the token request answered HTTP %d"):format(where, response.status)
  end
  local headers = { { "X-aws-ec2-metadata-token", trim(response.body) } }
  local path = base .. "/latest/meta-data/iam/security-credentials/"
  response = self:perform{ method = "GET", url = path, timeout = METADATA_TIMEOUT,
    headers = headers }
  if response.error or response.status ~= 200 then
    return nil, ("%s: no IAM role attached to this instance (%s)"):format(where,
      response.error and response.kind or ("HTTP " .. response.status))
  end
  local role = response.body:match("^%s*([^\r\n]-)%s*$") or response.body:match("[^\r\n]+")
  if role == nil or role == "" then
    return nil, ("%s: no IAM role attached to this instance"):format(where)
  end
  response = self:perform{ method = "GET", url = path .. role, timeout = METADATA_TIMEOUT,
    headers = headers }
  if response.error then
    return nil, ("%s: %s"):format(where, response.error), true,
      RETRYABLE_KINDS[response.kind] == true
  end
  local data = cjson.decode(response.body)
  local found = response.status == 200 and type(data) == "table" and data.Code == "Success"
    and from_json(data, "instance-metadata")
  if not found then
    return nil, ("%s: no credentials for role %s (HTTP %d%s)"):format(where, role,
      response.status, type(data) == "table" and type(data.Code) == "string"
        and (", " .. data.Code) or ""), true, response.status >= 500
  end
  return found
end

local SOURCES = { "from_environment", "from_web_identity", "from_profile", "from_container",
  "from_instance_metadata" }

-- Runs the chain: the first source that gives credentials wins; a source that is configured
-- but fails ends the search with its error.
function Provider:resolve()
  local looked = {}
  for _, method in ipairs(SOURCES) do
    local found, reason, fatal, retryable = self[method](self)
    if found then
      self.winner = method
      return found
    end
    if fatal then
      return nil, reason, retryable == true
    end
    looked[#looked + 1] = reason
  end
  return nil, "no AWS credentials found; looked in: " .. table.concat(looked, "; "), false
end

-- get() -> credentials | nil, message, retryable
function Provider:get()
  local now = self.now()
  local cached = self.cached
  if cached and (cached.expiration == nil
    or now < cached.expiration - credentials.REFRESH_MARGIN) then
    return cached
  end
  local found, err, retryable
  if self.winner then
    local _
    found, err, _, retryable = self[self.winner](self)
  else
    found, err, retryable = self:resolve()
  end
  if found then
    self.cached = found
    return found
  end
  if cached and cached.expiration and now < cached.expiration then
    return cached -- still valid: try again on the next call
  end
  return nil, err, retryable == true
end

-- Forget cached credentials (after the service said they expired).
function Provider:invalidate()
  self.cached = nil
end

-- profile_region(env) -> the region of the selected profile, or nil | nil, message
function credentials.profile_region(env)
  local provider = credentials.chain{ env = env }
  local files, err = provider:read_files()
  if files == nil then
    return nil, err
  end
  local settings = profile_settings(files, (provider:profile_name()))
  local region = settings and settings.region
  if type(region) ~= "string" or region == "" then
    return nil
  end
  return region
end

return credentials
