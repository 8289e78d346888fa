workflow = {
  name = "warn_only",
  description = "an unknown field is only a warning",
  steps = {
    a = { code = "function run() return 1 end", colour = "red" },
  }
}
