/**
 * Lua's `io` library (and `os.remove`, `os.rename`) for steps, over one JS
 * function `fs(op, path, arg)` that the step's worker provides
 * (lua/sandbox.ts). Every call reaches the host only through Deno,
 * whose permissions on the worker are the step's grants: an `io.open` of
 * anything else returns nil, "PATH: Permission denied ...", 13, as Lua does.
 *
 * A file is read whole when opened and written whole (or appended) when
 * flushed or closed; files left open are flushed when `run` returns.
 * Bytes cross to JS as text when they are valid UTF-8 without NUL, else
 * as hex, so binary files survive both ways.
 *
 * The code is the body of a function(fs, emit) -> io, remove, rename,
 * flush_all, spliced into the prelude (lua/_prelude.ts).
 *
 * @module
 */

export const LUA_IO = String.raw`
local fs, emit = ...
local type, tostring, tonumber, error, select, setmetatable, pairs = type, tostring, tonumber, error, select, setmetatable, pairs
local sub, find, byte, char, format, gsub, match = string.sub, string.find, string.byte, string.char, string.format, string.gsub, string.match
local concat, pack, unpack, utf8len, mtype = table.concat, table.pack, table.unpack, utf8.len, math.type
local getmetatable = getmetatable

local function hex_byte(c) return format("%02x", byte(c)) end
local function from_hex(h) return char(tonumber(h, 16)) end
local function to_host(s)
  if utf8len(s) and not find(s, "\0", 1, true) then return "T" .. s end
  return "H" .. gsub(s, ".", hex_byte)
end
-- fs replies: K (done), T<text>, H<hex>, E<errno>|<message>.
local function call(op, path, arg)
  local reply = fs(op, path, arg)
  local tag = sub(reply, 1, 1)
  if tag == "E" then
    local errno, message = match(reply, "^E(%d+)|(.*)$")
    return nil, path .. ": " .. message, tonumber(errno)
  end
  if tag == "T" then return sub(reply, 2) end
  if tag == "H" then return (gsub(sub(reply, 2), "%x%x", from_hex)) end
  return true
end

local FILE = { __name = "FILE*" }
FILE.__index = FILE
local open_files = setmetatable({}, { __mode = "k" })

local function check(f, name)
  if getmetatable(f) ~= FILE then error("bad argument #1 to '" .. name .. "' (FILE* expected)", 3) end
  if f.closed then error("attempt to use a closed file", 3) end
end

-- The whole content: data plus writes appended at its end since.
local function content(f)
  if #f.tail > 0 then
    f.data = f.data .. concat(f.tail)
    f.tail = {}
  end
  return f.data
end

function FILE.flush(f)
  check(f, "flush")
  if not f.dirty then return f end
  local ok, message, errno
  if f.mode == "a" and not f.plus then
    ok, message, errno = call("append", f.path, to_host(concat(f.tail)))
    if ok then f.tail = {} end
  else
    ok, message, errno = call("write", f.path, to_host(content(f)))
  end
  if not ok then return nil, message, errno end
  f.dirty = false
  return f
end

function FILE.close(f)
  check(f, "close")
  local ok, message, errno = f:flush()
  f.closed = true
  open_files[f] = nil
  if not ok then return nil, message, errno end
  return true
end
FILE.__close = function(f) if not f.closed then f:close() end end

function FILE.write(f, ...)
  check(f, "write")
  if not f.writable then return nil, f.path .. ": Bad file descriptor", 9 end
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if type(v) == "number" then
      v = mtype(v) == "integer" and format("%d", v) or format("%.14g", v)
    elseif type(v) ~= "string" then
      error("bad argument #" .. i .. " to 'write' (string expected, got " .. type(v) .. ")", 2)
    end
    if f.mode == "a" and not f.plus then
      f.tail[#f.tail + 1] = v
    else
      local data = f.mode == "a" and content(f) or nil
      if f.mode == "a" then f.pos = #data end
      if f.pos == f.size then
        f.tail[#f.tail + 1] = v
      else
        data = content(f)
        f.data = sub(data, 1, f.pos) .. v .. sub(data, f.pos + #v + 1)
      end
      f.pos = f.pos + #v
      if f.pos > f.size then f.size = f.pos end
    end
    f.dirty = true
  end
  return f
end

local function read_one(f, how)
  local data = content(f)
  if type(how) == "number" then
    if f.pos >= #data then return nil end
    if how == 0 then return "" end
    local s = sub(data, f.pos + 1, f.pos + how)
    f.pos = f.pos + #s
    return s
  end
  how = gsub(tostring(how), "^%*", "")
  local k = sub(how, 1, 1)
  if k == "a" then
    local s = sub(data, f.pos + 1)
    f.pos = #data
    return s
  elseif k == "l" or k == "L" then
    if f.pos >= #data then return nil end
    local nl = find(data, "\n", f.pos + 1, true)
    local last = nl or #data
    local s = sub(data, f.pos + 1, (k == "l" and nl) and nl - 1 or last)
    f.pos = last
    return s
  elseif k == "n" then
    local s, e = find(data, "^%s*[-+]?0[xX][%x%.]+[pP]?[-+]?%d*", f.pos + 1)
    if not s then s, e = find(data, "^%s*[-+]?%d*%.?%d+[eE]?[-+]?%d*", f.pos + 1) end
    if not s then return nil end
    local n = tonumber((gsub(sub(data, s, e), "^%s+", "")))
    if n == nil then return nil end
    f.pos = e
    return n
  end
  error("bad argument to 'read' (invalid format)", 3)
end

function FILE.read(f, ...)
  check(f, "read")
  if not f.readable then return nil, f.path .. ": Bad file descriptor", 9 end
  local n = select("#", ...)
  if n == 0 then return read_one(f, "l") end
  local out = {}
  for i = 1, n do
    out[i] = read_one(f, (select(i, ...)))
    if out[i] == nil then return unpack(out, 1, i) end
  end
  return unpack(out, 1, n)
end

function FILE.lines(f, ...)
  check(f, "lines")
  local formats = pack(...)
  if formats.n == 0 then formats = { "l", n = 1 } end
  return function()
    if f.closed then error("file is already closed", 2) end
    return f:read(unpack(formats, 1, formats.n))
  end
end

function FILE.seek(f, whence, offset)
  check(f, "seek")
  whence, offset = whence or "cur", offset or 0
  local base = ({ set = 0, cur = f.pos, ["end"] = f.size })[whence]
  if not base then error("bad argument #1 to 'seek' (invalid option '" .. tostring(whence) .. "')", 2) end
  local pos = base + offset
  if pos < 0 then return nil, "Invalid argument", 22 end
  f.pos = pos
  return pos
end

function FILE.setvbuf() return true end
FILE.__tostring = function(f) return f.closed and "file (closed)" or format("file (%s)", f.path) end

local io = {}

function io.open(path, mode)
  if type(path) ~= "string" then error("bad argument #1 to 'open' (string expected, got " .. type(path) .. ")", 2) end
  mode = mode or "r"
  if type(mode) ~= "string" or not find(mode, "^[rwa]%+?b?$") then error("bad argument #2 to 'open' (invalid mode)", 2) end
  local kind, plus = sub(mode, 1, 1), find(mode, "+", 1, true) ~= nil
  local f = setmetatable({ path = path, mode = kind, plus = plus, pos = 0, size = 0, data = "", tail = {},
    readable = kind == "r" or plus, writable = kind ~= "r" or plus, dirty = false, closed = false }, FILE)
  if kind == "r" or (kind == "a" and plus) then
    local data, message, errno = call("read", path)
    if data == nil and not (kind == "a" and errno == 2) then return nil, message, errno end
    f.data = data or ""
    f.size = #f.data
  end
  if kind == "w" or kind == "a" then
    -- Create (or truncate) now, so that a path the step may not write fails here.
    local ok, message, errno = call(kind == "w" and "write" or "append", path, "T")
    if not ok then return nil, message, errno end
  end
  if kind == "a" then f.pos = f.size end
  open_files[f] = true
  return f
end

function io.lines(path, ...)
  if path == nil then error("hwfe: steps have no standard input; give io.lines a file name", 2) end
  local f, message = io.open(path, "r")
  if not f then error(message, 2) end
  local formats = pack(...)
  local read = f:lines(unpack(formats, 1, formats.n))
  return function()
    local v = read()
    if v == nil and not f.closed then f:close() end
    return v
  end
end

function io.type(f)
  if getmetatable(f) ~= FILE then return nil end
  return f.closed and "closed file" or "file"
end

local function stream(name)
  return setmetatable({}, { __index = {
    write = function(self, ...)
      for i = 1, select("#", ...) do emit(name, tostring((select(i, ...)))) end
      return self
    end,
    flush = function(self) return self end,
    close = function() return nil, "cannot close standard file", 9 end,
    setvbuf = function() return true end,
  }, __name = "FILE*", __tostring = function() return "file (" .. name .. ")" end })
end
io.stdout, io.stderr = stream("stdout"), stream("stderr")
function io.write(...) return io.stdout:write(...) end
function io.read() return nil end
function io.close(f) return (f or io.stdout):close() end

local function remove(path)
  if type(path) ~= "string" then error("bad argument #1 to 'remove' (string expected)", 2) end
  return call("remove", path)
end
local function rename(from, to)
  if type(from) ~= "string" or type(to) ~= "string" then error("bad argument to 'rename' (string expected)", 2) end
  return call("rename", from, to)
end

-- Files a step left open are written when its run() returns; an error then fails the step.
local function flush_all()
  for f in pairs(open_files) do
    if not f.closed then
      local ok, message = f:close()
      if not ok then error("hwfe: writing a file the step left open failed: " .. message, 0) end
    end
  end
end

return io, remove, rename, flush_all
`;
