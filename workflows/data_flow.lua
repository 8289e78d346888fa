-- Data flowing between Lua and shell: Lua builds records, a shell step reads
-- them from $INPUT_GENERATE and prints JSON, Lua summarises both.
workflow = {
  name = "data_flow",
  description = "Lua -> shell -> Lua with nested data and 64-bit integers",

  steps = {
    generate = {
      language = "lua",
      code = [[
function run()
    local items = {}
    for i = 1, 5 do
        items[i] = { id = i, name = "item-" .. i, weight = i * 1.5 }
    end
    return { items = items, created_ms = os.time() * 1000, tags = {} }
end
]]
    },

    count_in_shell = {
      depends_on = { "generate" },
      language = "shell",
      code = [[
run() {
    local data
    data=$(parse_input generate)
    local ids
    ids=$(printf '%s' "$data" | grep -o '"id":[0-9]*' | cut -d: -f2 | paste -sd, -)
    echo "counting items in bash"
    echo "{\"ids\": [$ids], \"bytes\": ${#data}}"
}
]]
    },

    summarise = {
      depends_on = { "generate", "count_in_shell" },
      language = "lua",
      code = [[
function run(inputs)
    local total = 0
    for _, item in ipairs(inputs.generate.items) do total = total + item.weight end
    print(("%d ids from bash, total weight %.1f"):format(#inputs.count_in_shell.ids, total))
    return {
        ids = inputs.count_in_shell.ids,
        total_weight = total,
        created_ms = inputs.generate.created_ms,
        tags = inputs.generate.tags,
    }
end
]]
    }
  }
}
