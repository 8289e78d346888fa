-- WebAssembly steps in all three calling conventions (docs/WASM.md), each
-- written as WebAssembly text in `code` so the example needs no binaries.
-- With `module = "path/to/file.wasm"` instead, the file is read relative to
-- this workflow file.
workflow = {
  name = "wasm_pipeline",
  description = "WebAssembly: status code, JSON in memory, WASI command",

  steps = {
    payload = {
      language = "lua",
      code = [[
function run()
    return { id = 7, tags = { "a", "b" } }
end
]]
    },

    -- 1. The reference engine's convention: run() -> i32, 0 is success.
    status = {
      depends_on = { "payload" },
      language = "wasm",
      code = [==[
(module
  (func (export "run") (result i32)
    (i32.const 0)))
]==]
    },

    -- 2. JSON in memory: alloc(len) -> ptr, run(ptr, len) -> ptr to
    -- [u32 little-endian length][UTF-8 JSON]. This one answers
    -- {"wrapped": <its inputs>}.
    wrap = {
      depends_on = { "payload" },
      language = "wasm",
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

    -- 3. A WASI preview 1 command: inputs on stdin, the result on stdout.
    via_wasi = {
      depends_on = { "wrap" },
      language = "wasm",
      code = [==[
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "{\"via_wasi\": ")
  (data (i32.const 120) "}\n")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.const 61440))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (call $print (i32.const 100) (i32.const 13))
    (call $print (i32.const 4096) (i32.load (i32.const 24)))
    (call $print (i32.const 120) (i32.const 2))))
]==]
    },

    check = {
      depends_on = { "status", "via_wasi" },
      language = "lua",
      code = [[
function run(inputs)
    assert(inputs.status.wasm_execution.status == "success")
    local payload = inputs.via_wasi.via_wasi.wrap.wrapped.payload
    assert(payload.id == 7 and payload.tags[2] == "b", "the payload went through memory and WASI")
    print("payload survived both conventions")
    return { id = payload.id, tags = payload.tags }
end
]]
    }
  }
}
