workflow = {
  name = "broken",
  steps = {
    a = { code = "function run() return 1 end" }
  ,
