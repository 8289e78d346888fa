;; WASI with granted directories (docs/SECURITY.md): reads data/in.csv
;; through the pre-opened "data" (fd 4) and prints it, then creates
;; out/wasi.txt in the pre-opened "out" (fd 6), prints the errno of that
;; (00: success) and writes a line into it. Pre-opens come in the order of
;; the step's grants, each under its absolute path and then its relative one.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "in.csv")
  (data (i32.const 160) "wasi.txt")
  (data (i32.const 180) "wasi wrote\n")
  ;; Prints $n as two digits.
  (func $num (param $n i32)
    (i32.store8 (i32.const 60) (i32.add (i32.const 48) (i32.div_u (local.get $n) (i32.const 10))))
    (i32.store8 (i32.const 61) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
    (i32.store (i32.const 8) (i32.const 60))
    (i32.store (i32.const 12) (i32.const 2))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20))))
  (func (export "_start") (local $fd i32) (local $errno i32)
    ;; open data/in.csv for reading (rights: fd_read) and print it
    (drop (call $open (i32.const 4) (i32.const 1) (i32.const 100) (i32.const 6)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (local.set $fd (i32.load (i32.const 200)))
    (i32.store (i32.const 8) (i32.const 1024))
    (i32.store (i32.const 12) (i32.const 1000))
    (drop (call $read (local.get $fd) (i32.const 8) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 12) (i32.load (i32.const 16)))
    (drop (call $write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 20)))
    (drop (call $close (local.get $fd)))
    ;; create out/wasi.txt (oflags: creat | trunc; rights: fd_write)
    (local.set $errno (call $open (i32.const 6) (i32.const 1) (i32.const 160) (i32.const 8)
      (i32.const 9) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $num (local.get $errno))
    (local.set $fd (i32.load (i32.const 200)))
    (i32.store (i32.const 8) (i32.const 180))
    (i32.store (i32.const 12) (i32.const 11))
    (drop (call $write (local.get $fd) (i32.const 8) (i32.const 1) (i32.const 20)))
    (drop (call $close (local.get $fd)))))
