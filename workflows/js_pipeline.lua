-- A JavaScript pipeline: orders in, a report out. Node-style code (arrow
-- functions, spread, template strings, Date) runs in QuickJS with no host
-- access; console output is captured per step.
workflow = {
  name = "js_pipeline",
  description = "JavaScript steps: parse, aggregate, format",

  steps = {
    orders = {
      language = "javascript",
      code = [==[
function run() {
  const raw = "2026-11-01,widget,3,2.50\n2026-11-02,gadget,1,10.00\n2026-11-02,widget,2,2.50";
  const orders = raw.split("\n").map((line) => {
    const [date, item, qty, price] = line.split(",");
    return { date, item, qty: Number(qty), price: Number(price) };
  });
  console.log(`parsed ${orders.length} orders`);
  return { orders };
}
]==]
    },

    totals = {
      depends_on = { "orders" },
      language = "js",
      code = [==[
function run(inputs) {
  const byItem = {};
  for (const { item, qty, price } of inputs.orders.orders) {
    byItem[item] = (byItem[item] ?? 0) + qty * price;
  }
  const ranked = Object.entries(byItem).sort(([, a], [, b]) => b - a);
  console.log("totals", byItem);
  return { ranked, grand: ranked.reduce((sum, [, v]) => sum + v, 0) };
}
]==]
    },

    report = {
      depends_on = { "orders", "totals" },
      language = "node",
      code = [==[
async function run(inputs) {
  const { ranked, grand } = inputs.totals;
  const lines = ranked.map(([item, total]) => `${item.padEnd(8)} ${total.toFixed(2).padStart(7)}`);
  const days = new Set(inputs.orders.orders.map((o) => o.date)).size;
  return {
    text: [...lines, `${"total".padEnd(8)} ${grand.toFixed(2).padStart(7)}`].join("\n"),
    days,
    generated: new Date(Date.UTC(2026, 10, 25)).toISOString(),
  };
}
]==]
    }
  }
}
