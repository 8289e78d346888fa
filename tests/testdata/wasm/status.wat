;; Convention 1 (the reference engine's): an export taking nothing and
;; returning an i32 code. 0 is success, 1-10 a warning, anything else fails.
(module
  (func (export "run") (result i32) (i32.const 0))
  (func (export "check") (result i32) (i32.const 3))
  (func (export "broken") (result i32) (i32.const 99))
  (func (export "crash") (result i32) (unreachable))
  (func (export "spin") (result i32) (loop $forever (br $forever)) (i32.const 0))
  (func (export "two") (param i32 i32) (result i32) (i32.const 0)))
