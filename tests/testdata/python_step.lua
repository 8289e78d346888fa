workflow = {
  name = "python_step",
  steps = {
    a = { language = "py", code = "def run():\n    return 1\n" },
  }
}
