workflow = { name = "x", steps = {} }
