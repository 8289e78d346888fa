workflow = {
  name = "timeouts",
  steps = {
    spin = { timeout = 0.5, code = "function run() while true do end end" },
    pcall_loop = { timeout = 0.5, code = [[
function run()
  while true do pcall(function() while true do end end) end
end
]] },
    sleeper = { timeout = 0.5, language = "shell", code = "sleep 30.MARKER" },
    fine = { code = "function run() return 'ok' end" },
  }
}
