-- 'boom' fails at once; 'slow' (an independent shell step) is running then;
-- 'after_slow' depends on 'slow' and 'after_boom' on 'boom'.
workflow = {
  name = "fail_fast",
  steps = {
    slow = { language = "shell", code = "echo started; sleep 30.MARKER" },
    boom = { language = "lua", code = [[
function run()
  error("boom on purpose")
end
]] },
    quick = { language = "shell", code = "echo quick" },
    after_boom = { depends_on = "boom", code = "function run() return 1 end" },
    after_quick = { depends_on = "quick", code = "function run(i) return i.quick.stdout end" },
  }
}
