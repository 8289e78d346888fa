workflow = {
  name = "javascript_step",
  steps = {
    a = { language = "js", code = "function run() { return 1; }\n" },
  }
}
