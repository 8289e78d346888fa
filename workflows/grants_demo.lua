-- Steps that read host files, each in its own language, with only the
-- grant it declares. Run with:
-- run with: --allow-read=workflows/data
--   deno task hwfe run --allow-read=workflows/data grants_demo
-- Without the flag hwfe refuses before anything starts and says what to add.
workflow = {
  name = "grants_demo",
  description = "Read a CSV on the host from Lua, Python and JavaScript (needs --allow-read=workflows/data)",
  steps = {
    lua_rows = {
      language = "lua",
      description = "Count the rows with io.lines",
      permissions = { read = { "workflows/data/sales.csv" } },
      code = [[
function run()
  local rows = 0
  for line in io.lines("workflows/data/sales.csv") do
    if line ~= "" then rows = rows + 1 end
  end
  return { rows = rows - 1 } -- minus the header
end
]],
    },
    python_totals = {
      language = "python",
      description = "Total per region with the csv module",
      depends_on = { "lua_rows" },
      permissions = { read = { "workflows/data" } },
      code = [==[
import csv

def run(inputs):
    totals = {}
    with open("workflows/data/sales.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        totals[row["region"]] = totals.get(row["region"], 0) + int(row["amount"])
    assert len(rows) == inputs["lua_rows"]["rows"], "Lua and Python disagree"
    return {"totals": totals, "rows": len(rows)}
]==],
    },
    js_report = {
      language = "javascript",
      description = "A report from the totals, checked against the file",
      depends_on = { "python_totals" },
      permissions = { read = { "workflows/data/sales.csv" } },
      code = [[
function run(inputs) {
  const { totals, rows } = inputs.python_totals;
  const lines = hwfe.readTextFile("workflows/data/sales.csv").trim().split("\n");
  if (lines.length - 1 !== rows) throw new Error("the file changed under the run");
  const best = Object.entries(totals).sort((a, b) => b[1] - a[1])[0];
  console.log(`best region: ${best[0]} (${best[1]})`);
  return { best: best[0], total: Object.values(totals).reduce((a, b) => a + b, 0) };
}
]],
    },
  },
}
