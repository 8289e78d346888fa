workflow = { name = "x" }
