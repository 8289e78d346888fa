workflow = {
  name = "bad_steps",
  steps = {
    not_a_table = "echo hi",
    unknown_lang = { language = "cobol", code = "DISPLAY 'HI'" },
    no_code = { language = "lua" },
    self_dep = { depends_on = { "self_dep" }, code = "function run() end" },
    typo_dep = { depends_on = { "unknown_lnag" }, code = "function run() end" },
    misspelt = { depend_on = { "no_code" }, code = "function run() end" },
    extra = { code = "function run() end", timout = 5 },
  }
}
