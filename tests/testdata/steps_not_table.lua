workflow = { name = "x", steps = "a,b" }
