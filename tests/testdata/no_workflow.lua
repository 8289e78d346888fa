name = "no workflow global here"
