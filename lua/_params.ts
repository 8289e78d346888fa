/**
 * The `params` global of a workflow file and of a Lua step: a read-only
 * table of the workflow's parameters.
 *
 * In a step it holds the resolved values (JSON text from the job). In a
 * workflow file a value is looked up when read: the host function
 * `lookup(name, declared_json)` (workflow/params.ts `paramLookup`) types
 * the value given on the command line by its default in `workflow.params`
 * as the file has set it so far, and answers "V<json>" or "E<message>".
 * So a file declares its parameters in `workflow` first, then may shape
 * its steps with them.
 *
 * The code is the body of a function(mode, values_json, lookup, from_json,
 * to_json) -> params, spliced into the prelude (lua/_prelude.ts).
 *
 * @module
 */

export const LUA_PARAMS = String.raw`
local mode, values_json, lookup, from_json, to_json = ...
local type, error, next, rawget, tostring, sub = type, error, next, rawget, tostring, string.sub
local function read_only(index, iterate)
  return setmetatable({}, {
    __index = index,
    __newindex = function(_, key)
      error("params is read-only: cannot set params." .. tostring(key), 2)
    end,
    __pairs = iterate,
    __metatable = false,
  })
end
if mode == "step" then
  local values = values_json and from_json(values_json) or {}
  return read_only(values, function() return next, values, nil end)
end
if not lookup then return read_only({}, function() return next, {}, nil end) end
local function declared()
  local workflow = rawget(_G, "workflow")
  return type(workflow) == "table" and workflow.params or nil
end
local function value(name, level)
  local defaults = declared()
  local json = defaults ~= nil and to_json(defaults, "workflow.params", true) or nil
  local answer = lookup(name, json)
  if sub(answer, 1, 1) == "E" then error(sub(answer, 2), level) end
  return from_json(sub(answer, 2))
end
return read_only(function(_, name)
  if type(name) ~= "string" then return nil end
  local v = value(name, 3) -- not a tail call: the error names the file's line
  return v
end, function()
  local defaults, names = declared(), {}
  if type(defaults) == "table" then
    for name in next, defaults do
      if type(name) == "string" then names[#names + 1] = name end
    end
  end
  local i = 0
  return function()
    i = i + 1
    if names[i] then return names[i], value(names[i], 3) end
  end
end)
`;
