;; Convention 3 (WASI preview 1 command): _start reads the inputs' JSON from
;; stdin and writes {"echo": <inputs>, "isolated": true|false} to stdout,
;; where isolated means no environment variables and no preopened
;; directories. Any input containing "fail" makes it exit with code 2 after
;; a message on stderr.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "{\"echo\": ")
  (data (i32.const 120) ", \"isolated\": true}\n")
  (data (i32.const 150) ", \"isolated\": false}\n")
  (data (i32.const 180) "refusing to work\n")
  ;; prints len bytes at ptr to fd
  (func $print (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $contains_fail (param $ptr i32) (param $len i32) (result i32)
    (local $i i32)
    (block $done
      (loop $scan
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $len)))
        (if (i32.eq (i32.load (i32.add (local.get $ptr) (local.get $i))) (i32.const 0x6c696166))
          (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const 0))
  (func (export "_start")
    (local $len i32) (local $isolated i32)
    ;; read stdin (up to 60 KiB) into 4096..
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.const 61440))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (local.set $len (i32.load (i32.const 24)))
    (if (call $contains_fail (i32.const 4096) (local.get $len))
      (then
        (call $print (i32.const 2) (i32.const 180) (i32.const 17))
        (call $proc_exit (i32.const 2))))
    ;; no environment variables and fd 3 is not a preopened directory
    (drop (call $environ_sizes_get (i32.const 32) (i32.const 36)))
    (local.set $isolated
      (i32.and
        (i32.eqz (i32.load (i32.const 32)))
        (i32.ne (call $fd_prestat_get (i32.const 3) (i32.const 40)) (i32.const 0))))
    (call $print (i32.const 1) (i32.const 100) (i32.const 9))
    (call $print (i32.const 1) (i32.const 4096) (local.get $len))
    (if (local.get $isolated)
      (then (call $print (i32.const 1) (i32.const 120) (i32.const 20)))
      (else (call $print (i32.const 1) (i32.const 150) (i32.const 21))))))
