-- What Terraform and EventBridge would make of deploy/, for the specs:
-- the state machine definition rendered from its one template, the
-- Terraform files parsed by the npm HCL parser, and the first event an
-- EventBridge input transformer produces.
local cjson = require("cjson")
local config = require("sq.config")
local helper = require("lambda.helper")

local render = {}

render.DEPLOY = helper.root .. "/deploy"
render.TEMPLATE = render.DEPLOY .. "/state_machine.json.tpl"
render.SAMPLE_CONFIG = helper.root .. "/conf/scheduled_queries.json"
-- The function's ARN with the module's default prefix.
render.FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:streamquery_streamquery"

-- A number as Terraform writes it into a template (no ".0").
local function template_text(value)
  if math.type(value) == "float" and value == math.floor(value) then
    return string.format("%d", value)
  end
  return tostring(value)
end

-- Renders a Terraform template file as templatefile() does for templates
-- made only of ${name} interpolations ($${ is a literal ${). Anything else
-- (a directive, an unknown name) raises.
function render.template(path, values)
  local text = helper.read(path)
  assert(not text:find("%%{"), path .. ": template directives are not supported here")
  text = text:gsub("%$%${", "\0")
  text = text:gsub("%${([^}]*)}", function(name)
    local value = values[name]
    if value == nil then
      error(string.format("%s: no value for ${%s}", path, name), 0)
    end
    return template_text(value)
  end)
  return (text:gsub("%z", "${"))
end

-- The sample configuration, as the function loads it.
function render.sample_config()
  local cfg, problems = config.load(render.SAMPLE_CONFIG, {})
  assert(cfg, "the sample configuration does not load: " .. cjson.encode(problems))
  return cfg
end

-- The state machine definition (text) for a configuration.
function render.state_machine(cfg)
  return render.template(render.TEMPLATE, {
    function_arn = render.FUNCTION_ARN,
    sfn_timeout_secs = cfg.sfn_timeout_secs,
    sfn_wait_secs = cfg.sfn_wait_secs,
  })
end

-- Every deploy/*.tf file parsed by the npm HCL parser: file name -> body.
function render.terraform()
  local output, ok = helper.run("node " .. helper.quote(helper.root .. "/spec/deploy/hcl2json.js")
    .. " " .. helper.quote(render.DEPLOY) .. " 2>&1")
  assert(ok, "the HCL parser failed: " .. output)
  return cjson.decode(output)
end

-- One block of the parsed Terraform: kind ("resource", "data"), type and
-- name, wherever it is defined. Returns the block and its file.
function render.block(parsed, kind, type_name, name)
  for file, body in pairs(parsed) do
    local blocks = body[kind] and body[kind][type_name]
    if blocks and blocks[name] then
      return blocks[name][1], file
    end
  end
  error(string.format("no %s %s.%s in deploy/", kind, type_name, name), 2)
end

-- Every local value defined in any file: name -> expression text.
function render.locals(parsed)
  local all = {}
  for _, body in pairs(parsed) do
    for _, block in ipairs(body.locals or {}) do
      for name, expression in pairs(block) do
        all[name] = expression
      end
    end
  end
  return all
end

-- Replaces ${local.NAME} references in text by the known values (where an
-- expression is itself a plain template, its references are followed), and
-- ${var.NAME} by values.var. Anything it cannot resolve stays as it is.
function render.resolve(text, locals, known)
  local function one(expression, depth)
    assert(depth < 10, "local values refer to each other in a loop")
    return (expression:gsub("%${(local%.([%w_]+))}", function(whole, name)
      if known[name] ~= nil then
        return tostring(known[name])
      end
      local definition = locals[name]
      if type(definition) == "string" and not definition:match("^%${.*[%(%?]") then
        return one(definition, depth + 1)
      end
      return "${" .. whole .. "}"
    end))
  end
  return one(text, 0)
end

-- The input an EventBridge target with this input transformer sends for a
-- scheduled event, as EventBridge fills a template: a quoted placeholder
-- gets the bare string, an unquoted one the JSON value. `each_key` stands
-- for Terraform's each.key in the template.
function render.input_transformer(transformer, each_key, event, rule_arn)
  local template = transformer.input_template:gsub("%${jsonencode%(%[each%.key%]%)}",
    function() return cjson.encode({ each_key }) end)
  assert(not template:find("${", 1, true), "unresolved Terraform expression in " .. template)
  local values = { ["aws.events.rule-arn"] = rule_arn }
  for name, path in pairs(transformer.input_paths) do
    local key = assert(path:match("^%$%.([%w_-]+)$"), "unsupported input path " .. path)
    values[name] = event[key]
  end
  local function value_of(name)
    local value = values[name]
    assert(value ~= nil, "no value for <" .. name .. ">")
    return value
  end
  template = template:gsub('"<([%w._-]+)>"', function(name)
    return cjson.encode(tostring(value_of(name)))
  end)
  template = template:gsub("<([%w._-]+)>", function(name)
    return cjson.encode(value_of(name))
  end)
  return cjson.decode(template)
end

return render
