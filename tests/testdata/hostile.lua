-- A result full of shell metacharacters must reach a shell step byte for byte.
workflow = {
  name = "hostile",
  steps = {
    source = { code = [==[
function run()
  return { text = "it's \"quoted\" $(touch /tmp/hwfe-pwned) `id` $HOME \\ back\nslash\ttab 'single' é😀" }
end
]==] },
    echo_back = { depends_on = { "source" }, language = "shell", code = [[
printf '{"via_env": %s, "via_parse": %s}\n' "$INPUT_SOURCE" "$(parse_input source)"
]] },
    lua_check = { depends_on = { "echo_back", "source" }, code = [[
function run(inputs)
  return inputs.echo_back.via_env.text == inputs.source.text and inputs.echo_back.via_parse.text == inputs.source.text
end
]] },
  }
}
