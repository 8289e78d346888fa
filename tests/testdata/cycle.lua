workflow = {
  name = "cycle",
  steps = {
    start = { code = "function run() return 1 end" },
    step_a = { depends_on = { "start", "step_b" }, code = "function run() return 1 end" },
    step_b = { depends_on = { "step_a" }, code = "function run() return 1 end" },
  }
}
