-- One nested value through every language hwfe runs, checked at the end:
-- Lua -> Python -> JavaScript -> TypeScript -> shell -> WebAssembly -> Lua.
-- Each step passes the value on unchanged and adds its name to a trail.
-- (Integers stay below 2^53 here: JavaScript numbers cannot hold more.)
workflow = {
  name = "every_language",
  description = "one value through Lua, Python, JavaScript, TypeScript, shell and wasm",

  steps = {
    lua = {
      language = "lua",
      code = [[
function run()
    return {
        value = {
            id = 9007199254740991,
            name = "Zoë ✓ \"quoted\"",
            ratio = 0.125,
            nested = { list = { 1, { 2, 3 }, "four" }, map = { ok = true, off = false } },
        },
        trail = { "lua" },
    }
end
]]
    },

    python = {
      depends_on = { "lua" },
      language = "python",
      code = [[
def run(inputs):
    step = inputs["lua"]
    return {"value": step["value"], "trail": step["trail"] + ["python"]}
]]
    },

    javascript = {
      depends_on = { "python" },
      language = "javascript",
      code = [[
function run(inputs) {
  const { value, trail } = inputs.python;
  return { value, trail: [...trail, "javascript"] };
}
]]
    },

    typescript = {
      depends_on = { "javascript" },
      language = "typescript",
      code = [[
type Carried = { value: unknown; trail: string[] };

function run(inputs: { javascript: Carried }): Carried {
  return { ...inputs.javascript, trail: [...inputs.javascript.trail, "typescript"] };
}
]]
    },

    shell = {
      depends_on = { "typescript" },
      language = "shell",
      code = [[
echo "{\"from_shell\": $(parse_input typescript)}"
]]
    },

    wasm = {
      depends_on = { "shell" },
      language = "wasm",
      -- The JSON convention: answers {"wrapped": <its inputs>}.
      code = [==[
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 0) "{\"wrapped\": ")
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $at))
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32)
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 17))))
    (i32.store (local.get $out) (i32.add (local.get $len) (i32.const 13)))
    (memory.copy (i32.add (local.get $out) (i32.const 4)) (i32.const 0) (i32.const 12))
    (memory.copy (i32.add (local.get $out) (i32.const 16)) (local.get $ptr) (local.get $len))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 16)) (local.get $len)) (i32.const 125))
    (local.get $out)))
]==]
    },

    check = {
      depends_on = { "lua", "wasm" },
      language = "lua",
      code = [[
local function same(a, b, path)
    if type(a) ~= type(b) then error(path .. ": " .. type(a) .. " became " .. type(b)) end
    if type(a) ~= "table" then
        if a ~= b or math.type(a) ~= math.type(b) then
            error(path .. ": " .. tostring(a) .. " became " .. tostring(b))
        end
        return
    end
    for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
    for k in pairs(b) do if a[k] == nil then error(path .. ": new key " .. tostring(k)) end end
end

function run(inputs)
    local carried = inputs.wasm.wrapped.shell.from_shell
    same(inputs.lua.value, carried.value, "value")
    local trail = table.concat(carried.trail, " -> ")
    assert(trail == "lua -> python -> javascript -> typescript", trail)
    print("unchanged through " .. trail .. " -> shell -> wasm")
    return { unchanged = true, trail = carried.trail, value = carried.value }
end
]]
    }
  }
}
