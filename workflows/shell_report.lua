-- Shell steps in the reference engine's style: a run() function, parse_input,
-- and a JSON object printed among other output.
workflow = {
  name = "shell_report",
  description = "bash run() functions passing JSON through INPUT_* variables",

  steps = {
    disk = {
      language = "bash",
      code = [[
run() {
    echo "measuring"
    echo "{\"files\": $(ls / | wc -l), \"shell\": \"bash $BASH_VERSION\"}"
}
]]
    },

    report = {
      depends_on = { "disk" },
      language = "lua",
      code = [[
function run(inputs)
    print("root has " .. inputs.disk.files .. " entries; " .. inputs.disk.shell)
    return { ok = inputs.disk.files > 0 }
end
]]
    }
  }
}
