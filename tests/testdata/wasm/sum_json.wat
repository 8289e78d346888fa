;; Convention 2 (JSON): the module exports memory, alloc(len) -> ptr and a
;; function (ptr, len) -> ptr. hwfe writes the inputs' JSON at alloc(len),
;; calls the function, and reads back a little-endian u32 length followed by
;; that many bytes of UTF-8 JSON. This one answers {"bytes": N} where N is
;; the size of the inputs' JSON text. dealloc, when exported, is called for
;; both buffers afterwards.
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 0) "{\"bytes\": ")
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $at i32)
    (local.set $at (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $at))
  (func (export "dealloc") (param $ptr i32) (param $len i32))
  ;; writes the decimal digits of $n at $at; returns how many
  (func $digits (param $n i32) (param $at i32) (result i32)
    (local $count i32) (local $tmp i32)
    (local.set $tmp (local.get $n))
    (loop $measure
      (local.set $count (i32.add (local.get $count) (i32.const 1)))
      (local.set $tmp (i32.div_u (local.get $tmp) (i32.const 10)))
      (br_if $measure (local.get $tmp)))
    (local.set $tmp (local.get $count))
    (loop $write
      (local.set $tmp (i32.sub (local.get $tmp) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $tmp))
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $write (local.get $tmp)))
    (local.get $count))
  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32) (local $n i32)
    (local.set $out (call $alloc (i32.const 32)))
    (memory.copy (i32.add (local.get $out) (i32.const 4)) (i32.const 0) (i32.const 10))
    (local.set $n (call $digits (local.get $len) (i32.add (local.get $out) (i32.const 14))))
    (i32.store8 (i32.add (i32.add (local.get $out) (i32.const 14)) (local.get $n)) (i32.const 125))
    (i32.store (local.get $out) (i32.add (local.get $n) (i32.const 11)))
    (local.get $out)))
