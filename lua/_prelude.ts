/**
 * The Lua code that turns a fresh Lua 5.4 state into hwfe's sandbox and then
 * runs one chunk: a workflow file (mode "workflow") or a step (mode "step").
 *
 * Inputs arrive as globals set from JS and removed at once:
 * `__hwfe_mode`, `__hwfe_name` (chunk name), `__hwfe_code`, `__hwfe_inputs`
 * (JSON text), `__hwfe_params` (a step's parameters, JSON text), and JS
 * functions: `__hwfe_interrupted()` (true once the chunk must stop),
 * `__hwfe_emit(stream, text)` (captured output) and, for a workflow file,
 * `__hwfe_param(name, declared)` (lua/_params.ts).
 *
 * The chunk returns one string whose first character says what happened:
 * R<json> result, D<json> a workflow file's result that depended on its
 * text alone (cacheable), S<msg> syntax error, E<msg> runtime error with traceback,
 * T<msg> a result that is not JSON data, N no run() function,
 * W no `workflow` global, I interrupted.
 *
 * Values cross as JSON text in both directions because wasmoon's own
 * conversion turns Lua integers into doubles and arrays into objects.
 *
 * @module
 */

import { LUA_IO } from "./_io.ts";
import { LUA_PARAMS } from "./_params.ts";

export const LUA_PRELUDE = String.raw`
local mode, name, code, inputs_json = __hwfe_mode, __hwfe_name, __hwfe_code, __hwfe_inputs
local interrupted, emit, memory_kb = __hwfe_interrupted, __hwfe_emit, __hwfe_memory_kb
local env_json, fs_host, params_json, param_host = __hwfe_env, __hwfe_fs, __hwfe_params, __hwfe_param
__hwfe_mode, __hwfe_name, __hwfe_code, __hwfe_inputs = nil, nil, nil, nil
__hwfe_interrupted, __hwfe_emit, __hwfe_memory_kb, __hwfe_env = nil, nil, nil, nil
__hwfe_fs, __hwfe_params, __hwfe_param = nil, nil, nil
-- The environment variables the run granted this step (filled in below).
local env_vars = {}
local gc = collectgarbage

local sethook, traceback = debug.sethook, debug.traceback
local type, next, tostring, tonumber, error, pcall, select = type, next, tostring, tonumber, error, pcall, select
local setmetatable, getmetatable, rawget = setmetatable, getmetatable, rawget
local mtype, huge, tointeger = math.type, math.huge, math.tointeger
local format, gsub, byte, sub, find, rep = string.format, string.gsub, string.byte, string.sub, string.find, string.rep
local concat, sort, pack, unpack = table.concat, table.sort, table.pack, table.unpack
local utf8len, utf8char = utf8.len, utf8.char
local raw_load, raw_xpcall, cocreate, coresume = load, xpcall, coroutine.create, coroutine.resume

-- Interruption: a count hook asks JS whether the chunk must stop. Hooks
-- belong to a thread, so every coroutine gets one too. After the first stop
-- the hook fires on every instruction, so a pcall loop cannot swallow it.
local HOOK_EVERY = 10000
-- A string, not a table: an error object that escapes the chunk must be a
-- string or wasmoon aborts the whole wasm module.
local INTERRUPT = "hwfe: step interrupted"
-- The memory limit is checked by the same hook (wasmoon's own allocation
-- limit needs traceAllocations, which made steps 1.5x slower and stopped
-- them scaling across cores): a step may overshoot by what it allocates
-- in 10,000 instructions, or one capped string.rep.
local OUT_OF_MEMORY = "not enough memory"
local function hook()
  if interrupted() then
    sethook(hook, "", 1)
    error(INTERRUPT, 0)
  end
  if memory_kb and gc("count") > memory_kb then
    gc("collect")
    if gc("count") > memory_kb then
      sethook(hook, "", 1)
      error(OUT_OF_MEMORY, 0)
    end
  end
end

-- A workflow file whose evaluation depends on nothing but its text may be
-- cached by the host (workflow/load.ts): these note that it depended on
-- something else (the clock, randomness, memory, addresses). os.getenv has
-- no variables here, and the order of pairs() may differ between states
-- but every order is one the file could have produced, so caching one of
-- them is sound.
local varies = false
if mode == "workflow" then
  local function varying(f) return function(...) varies = true; return f(...) end end
  os.clock, os.time, os.date = varying(os.clock), varying(os.time), varying(os.date)
  math.random, math.randomseed = varying(math.random), varying(math.randomseed)
  collectgarbage = varying(collectgarbage)
  local shown = { ["nil"] = true, boolean = true, number = true, string = true }
  local raw_tostring, raw_format = tostring, string.format
  _G.tostring = function(v)
    if not shown[type(v)] then varies = true end
    return raw_tostring(v)
  end
  string.format = function(fmt, ...)
    if type(fmt) == "string" and find(fmt, "%%p") then varies = true end
    for i = 1, select("#", ...) do
      if not shown[type((select(i, ...)))] then varies = true end
    end
    return raw_format(fmt, ...)
  end
end

-- The sandbox: nothing here reaches the host.
io, package, require, dofile, loadfile, debug = nil, nil, nil, nil, nil, nil
os = { clock = os.clock, time = os.time, date = os.date, difftime = os.difftime }
-- Only variables the step declared and the run granted; nil for any other.
os.getenv = function(name) return env_vars[name] end
string.dump = nil
-- No finalizers: Lua runs __gc with hooks off, so one would escape the
-- step's time and memory limits (and may run after the step has ended).
-- Lua marks an object for finalization only if its metatable has __gc
-- (raw) when set, so checking here is enough.
_G.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("__gc metamethods are not available to hwfe steps and workflow files " ..
      "(a finalizer would run outside the step's time and memory limits)", 2)
  end
  return setmetatable(t, mt)
end
load = function(chunk, chunkname, _, ...)
  if select("#", ...) > 0 then return raw_load(chunk, chunkname, "t", (...)) end
  return raw_load(chunk, chunkname, "t")
end
-- A message handler runs with hooks off: run it after an ordinary pcall.
xpcall = function(f, handler, ...)
  local r = pack(pcall(f, ...))
  if r[1] then return unpack(r, 1, r.n) end
  return false, handler(r[2])
end
coroutine.create = function(f)
  local co = cocreate(f)
  sethook(co, hook, "", HOOK_EVERY)
  return co
end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...)
    local r = pack(coresume(co, ...))
    if r[1] then return unpack(r, 2, r.n) end
    error(r[2], 0)
  end
end
-- One library call cannot be interrupted: cap the one that builds huge strings.
local MAX_STRING = 256 * 1024 * 1024
string.rep = function(s, n, sep)
  if type(n) == "number" and n > 0 then
    local size = #tostring(s) * n + (sep and #tostring(sep) * (n - 1) or 0)
    if size > MAX_STRING then
      error(format("string.rep would build a string of %.0f bytes; hwfe allows at most %d", size, MAX_STRING), 2)
    end
    if memory_kb and gc("count") + size / 1024 > memory_kb then error(OUT_OF_MEMORY, 0) end
  end
  return rep(s, n, sep)
end

local function safe_text(s)
  if not utf8len(s) then
    local out, i = {}, 1
    while true do
      local ok, bad = utf8len(s, i)
      if ok then out[#out + 1] = sub(s, i); break end
      out[#out + 1] = sub(s, i, bad - 1)
      out[#out + 1] = "\u{FFFD}"
      i = bad + 1
    end
    s = concat(out)
  end
  return (gsub(s, "\0", "\\0"))
end

print = function(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  emit("stdout", safe_text(concat(parts, "\t") .. "\n"))
end

-- Steps get io (and os.remove, os.rename) over the files their worker's
-- Deno permissions allow: their grants (lua/_io.ts).
local make_io = function(...)
` + LUA_IO + String.raw`
end
local flush_files
if fs_host then
  local remove, rename
  io, remove, rename, flush_files = make_io(fs_host, function(stream, text) emit(stream, safe_text(text)) end)
  os.remove, os.rename = remove, rename
end

-- JSON: arrays decoded from JSON carry ARRAY as metatable so that an empty
-- array goes back out as [] rather than {}.
local ARRAY = { __name = "hwfe.array" }
local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape_char(c) return ESCAPES[c] or format("\\u%04x", byte(c)) end

-- The shortest text that reads back as the same float, and reads as a float:
-- 6/2 is 3.0 in Lua and stays 3.0 in JSON, as serde_json writes it.
local function float_text(v)
  local s
  for digits = 14, 17 do
    s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then break end
  end
  if not find(s, "[.eEn]") then s = s .. ".0" end
  return s
end

-- Results and inputs nested deeper than this are refused, as Python's are:
-- deeper ones overflowed the Lua stack inside hwfe's own encoder.
local MAX_DEPTH = 500
-- Paths in messages name this many levels, then "...".
local SHOWN_DEPTH = 16

local function child_path(path, key, depth)
  if depth > SHOWN_DEPTH then return path end
  if depth == SHOWN_DEPTH then return path .. "..." end
  if type(key) == "string" then
    if find(key, "^[%a_][%w_]*$") then return path .. "." .. key end
    return path .. "[" .. format("%q", key) .. "]"
  end
  return path .. "[" .. tostring(key) .. "]"
end

-- Paths name where a value is not JSON data. They are built only when the
-- first pass (path nil) fails: building one per value made a 100,000-step
-- workflow file take 2 s to encode instead of about 0.3 s.
local NEEDS_PATH = {}
local function fail_at(path, message)
  if path == nil then error(NEEDS_PATH, 0) end
  error(message .. path, 0)
end

-- The next free index in the output of the encoding under way (faster than #out).
local n = 0
-- Results only (nil for workflow tables): where a number JSON cannot hold
-- became null, as the reference engine (serde_json) makes it, for one warning.
local changed
-- A table whose keys are all positive integers is an array when it has no
-- holes, or (as the reference engine makes it) holes that leave it at least
-- half full or end by index 10: {[1] = "a", [3] = "c"} is ["a", null, "c"].
-- Sparser ones are objects with the indexes as keys.
local function is_array(count, max)
  return count > 0 and (max == count or max <= 10 or max <= 2 * count)
end
local function encode(value, path, lenient, out, seen, depth)
  local t = type(value)
  if t == "nil" then
    n = n + 1; out[n] = "null"
  elseif t == "boolean" then
    n = n + 1; out[n] = value and "true" or "false"
  elseif t == "number" then
    if mtype(value) == "integer" then
      n = n + 1; out[n] = format("%d", value)
    elseif value ~= value or value == huge or value == -huge then
      if not changed then
        fail_at(path, "a number that JSON cannot hold (" .. tostring(value) .. ") at ")
      end
      changed[#changed + 1] = value
      n = n + 1; out[n] = "null"
    else
      n = n + 1; out[n] = float_text(value)
    end
  elseif t == "string" then
    if not utf8len(value) then fail_at(path, "a string that is not valid UTF-8 at ") end
    if find(value, '[%c"\\]') then value = gsub(value, '[%c"\\]', escape_char) end
    n = n + 1; out[n] = '"' .. value .. '"'
  elseif t == "table" then
    if seen[value] then fail_at(path, "a table that contains itself at ") end
    if depth > MAX_DEPTH then fail_at(path, "a table nested deeper than " .. MAX_DEPTH .. " levels at ") end
    seen[value] = true
    local count, max, all_positive_integers = 0, 0, true
    for k in next, value do
      count = count + 1
      if mtype(k) == "integer" and k > 0 then
        if k > max then max = k end
      else
        all_positive_integers = false
      end
    end
    if all_positive_integers and (getmetatable(value) == ARRAY or is_array(count, max)) then
      n = n + 1; out[n] = "["
      for i = 1, max do
        if i > 1 then n = n + 1; out[n] = "," end
        encode(rawget(value, i), path and child_path(path, i, depth), lenient, out, seen, depth + 1)
      end
      n = n + 1; out[n] = "]"
    else
      local keys, names = {}, {}
      for k in next, value do
        local kt = type(k)
        local key_name
        if kt == "string" then
          key_name = k
        elseif kt == "number" then
          key_name = mtype(k) == "integer" and format("%d", k) or float_text(k)
        else
          fail_at(path, "a table key of type " .. kt .. " at ")
        end
        keys[#keys + 1] = key_name
        names[key_name] = k
      end
      sort(keys)
      n = n + 1; out[n] = "{"
      for i = 1, #keys do
        local key_name = keys[i]
        if i > 1 then n = n + 1; out[n] = "," end
        encode(key_name, path, lenient, out, seen, depth)
        n = n + 1; out[n] = ":"
        local k = names[key_name]
        encode(rawget(value, k), path and child_path(path, k, depth), lenient, out, seen, depth + 1)
      end
      n = n + 1; out[n] = "}"
    end
    seen[value] = nil
  elseif lenient then
    n = n + 1; out[n] = '{"\\u0000lua":"' .. t .. '"}'
  else
    fail_at(path, "a " .. t .. " at ")
  end
end

local function to_json(value, path, lenient)
  local out = {}
  n = 0
  local ok, problem = pcall(encode, value, nil, lenient, out, {}, 1)
  if ok then return concat(out) end
  if problem ~= NEEDS_PATH then error(problem, 0) end
  n = 0
  encode(value, path, lenient, {}, {}, 1) -- fails again, naming the path
  error("hwfe: encoding failed without a path", 0)
end

local JSON_ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f",
  n = "\n", r = "\r", t = "\t" }

local function from_json(text)
  local pos = 1
  -- The keys and indexes leading to the value being read, for a message.
  local keys, depth = {}, 0
  local function fail(what) error("hwfe: bad JSON input at byte " .. pos .. ": " .. what, 0) end
  local function too_deep()
    local path = "inputs"
    for i = 1, depth - 1 do path = child_path(path, keys[i], i) end
    error("inputs nested deeper than " .. MAX_DEPTH .. " levels at " .. path, 0)
  end
  local function skip() pos = find(text, "[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function read_string()
    local parts, i = {}, pos + 1
    while true do
      local j = find(text, '["\\]', i)
      if not j then fail("unterminated string") end
      parts[#parts + 1] = sub(text, i, j - 1)
      if byte(text, j) == 34 then pos = j + 1; return concat(parts) end
      local c = sub(text, j + 1, j + 1)
      if c == "u" then
        local cp = tonumber(sub(text, j + 2, j + 5), 16) or fail("bad \\u escape")
        i = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF and sub(text, i, i + 1) == "\\u" then
          local low = tonumber(sub(text, i + 2, i + 5), 16)
          if low and low >= 0xDC00 and low <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
            i = i + 6
          end
        end
        parts[#parts + 1] = utf8char(cp)
      else
        parts[#parts + 1] = JSON_ESCAPES[c] or fail("bad escape")
        i = j + 2
      end
    end
  end
  value = function()
    skip()
    local c = byte(text, pos)
    if c == 123 or c == 91 then
      depth = depth + 1
      if depth > MAX_DEPTH then too_deep() end
    end
    if c == 123 then -- {
      local object = {}
      pos = pos + 1
      skip()
      if byte(text, pos) == 125 then pos = pos + 1; depth = depth - 1; return object end
      while true do
        skip()
        if byte(text, pos) ~= 34 then fail("expected a key") end
        local key = read_string()
        skip()
        if byte(text, pos) ~= 58 then fail("expected ':'") end
        pos = pos + 1
        keys[depth] = key
        object[key] = value()
        skip()
        c = byte(text, pos)
        pos = pos + 1
        if c == 125 then depth = depth - 1; return object end
        if c ~= 44 then fail("expected ',' or '}'") end
      end
    elseif c == 91 then -- [
      local array, n = setmetatable({}, ARRAY), 0
      pos = pos + 1
      skip()
      if byte(text, pos) == 93 then pos = pos + 1; depth = depth - 1; return array end
      while true do
        n = n + 1
        keys[depth] = n
        array[n] = value()
        skip()
        c = byte(text, pos)
        pos = pos + 1
        if c == 93 then depth = depth - 1; return array end
        if c ~= 44 then fail("expected ',' or ']'") end
      end
    elseif c == 34 then
      return read_string()
    elseif c == 116 and sub(text, pos, pos + 3) == "true" then
      pos = pos + 4; return true
    elseif c == 102 and sub(text, pos, pos + 4) == "false" then
      pos = pos + 5; return false
    elseif c == 110 and sub(text, pos, pos + 3) == "null" then
      pos = pos + 4; return nil
    else
      local s, e = find(text, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not s then fail("unexpected character") end
      local literal = sub(text, s, e)
      pos = e + 1
      if find(literal, "^-?%d+$") then return tointeger(tonumber(literal)) or tonumber(literal) end
      return tonumber(literal) or fail("bad number")
    end
  end
  return value()
end

local function describe_error(e)
  if e == INTERRUPT then return e end
  if type(e) ~= "string" then
    local ok, text = pcall(tostring, e)
    e = ok and text or "(error object of type " .. type(e) .. ")"
  end
  return traceback(e, 2)
end

-- Runs fn(...) under the hook; returns the tagged outcome string.
local function guarded(fn, ...)
  sethook(hook, "", HOOK_EVERY)
  local r = pack(raw_xpcall(fn, describe_error, ...))
  sethook()
  if not r[1] then
    if r[2] == INTERRUPT then return false, "I" end
    return false, "E" .. safe_text(r[2])
  end
  return true, r
end

if env_json then env_vars = from_json(env_json) end
-- The workflow's parameters, read-only (lua/_params.ts).
params = (function(...) ` + LUA_PARAMS +
  String.raw` end)(mode, params_json, param_host, from_json, to_json)

local chunk, syntax_error = raw_load(code, name, "t")
if not chunk then return "S" .. safe_text(syntax_error) end
local ok, r = guarded(chunk)
if not ok then return r end

if mode == "workflow" then
  local workflow = rawget(_G, "workflow")
  if workflow == nil then return "W" end
  local encoded, json = pcall(to_json, workflow, "workflow", true)
  if not encoded then return "T" .. json end
  return (varies and "R" or "D") .. json
end

local run = rawget(_G, "run")
if type(run) ~= "function" then return "N" end
local decoded, inputs = pcall(from_json, inputs_json)
if not decoded then return "E" .. inputs end
ok, r = guarded(function(i)
  local result = run(i)
  if flush_files then flush_files() end
  return result
end, inputs)
if not ok then return r end
changed = {}
-- Encoding is the step's work too: under the same time and memory limits.
sethook(hook, "", HOOK_EVERY)
local encoded, json = pcall(to_json, r[2], "result", false)
sethook()
local became_null = changed
changed = nil
if not encoded then
  if json == INTERRUPT then return "I" end
  if json == OUT_OF_MEMORY then return "E" .. OUT_OF_MEMORY end
  return "T" .. json
end
if #became_null > 0 then
  local more = #became_null > 1 and (" and " .. (#became_null - 1) .. " more") or ""
  emit("stderr", "warning: the result held the number " .. tostring(became_null[1]) .. more ..
    ", which JSON cannot hold: returned as null\n")
end
return "R" .. json
`;
