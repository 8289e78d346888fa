-- The reference engine's parallel demo: four independent tasks between an
-- init step and a merge. In parallel mode the run takes about as long as its
-- longest path (about 1 s); in sequential mode about the sum of the tasks.
-- Python starts loading in the background while `init` runs.
workflow = {
  name = "parallel_demo",
  description = "Demonstrates parallel execution",

  steps = {
    init = {
      language = "lua",
      code = [[
function run()
    print("Initializing...")
    return "initialized"
end
]]
    },

    task_a = {
      depends_on = { "init" },
      language = "shell",
      code = "echo 'Task A' && sleep 1 && echo 'result_a'"
    },

    task_b = {
      depends_on = { "init" },
      language = "python",
      code = [[
def run(inputs=None):
    print("Task B starting")
    total = sum(range(1000000))
    print(f"Task B total: {total}")
    return "result_b"
]]
    },

    task_c = {
      depends_on = { "init" },
      language = "lua",
      description = "busy loop of one second of CPU time",
      code = [[
function run(inputs)
    print("Task C: computing for 1 second")
    local start = os.clock()
    local spins = 0
    while os.clock() - start < 1.0 do spins = spins + 1 end
    return "result_c"
end
]]
    },

    task_d = {
      depends_on = { "init" },
      language = "shell",
      code = "echo 'Task D' && sleep 1 && echo 'result_d'"
    },

    merge_results = {
      depends_on = { "task_a", "task_b", "task_c", "task_d" },
      language = "lua",
      code = [[
function run(inputs)
    print("Merging results:")
    local names = {}
    for k in pairs(inputs) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
        local v = inputs[k]
        print("  " .. k .. ": " .. (type(v) == "table" and (v.stdout or "?") or tostring(v)))
    end
    return { merged = #names, status = "merged" }
end
]]
    },

    finalize = {
      depends_on = { "merge_results" },
      language = "shell",
      code = [[
echo "Finalizing: merged $(parse_input merge_results)"
echo '{"status": "complete"}'
]]
    }
  }
}
