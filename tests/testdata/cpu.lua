-- Four CPU-bound Lua steps; with -j 2 at most two run at once.
workflow = {
  name = "cpu",
  steps = {
    c1 = { code = "function run() local s = 0 for i = 1, 2e7 do s = s + i end return s end" },
    c2 = { code = "function run() local s = 0 for i = 1, 2e7 do s = s + i end return s end" },
    c3 = { code = "function run() local s = 0 for i = 1, 2e7 do s = s + i end return s end" },
    c4 = { code = "function run() local s = 0 for i = 1, 2e7 do s = s + i end return s end" },
  }
}
