os.execute("touch /tmp/hwfe-should-not-exist")
workflow = { name = "x", steps = { a = { code = "function run() end" } } }
