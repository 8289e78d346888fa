workflow = {
  name = "bad_result",
  steps = {
    a = { code = "function run() return { nested = { callback = print } } end" },
  }
}
