-- Nested data across languages and back: Lua -> Python -> shell -> Python -> Lua.
-- Every step checks what it received, so a conversion that loses anything
-- (a null, a 64-bit integer, an empty list, a non-ASCII string) fails the run
-- or shows in the final result.
workflow = {
  name = "polyglot_flow",
  description = "Lua -> Python -> shell -> Python -> Lua with nested data",

  steps = {
    orders = {
      language = "lua",
      code = [[
function run()
    return {
        customer = { name = "Zoë Ørsted", id = 9007199254740993 },
        lines = {
            { sku = "A-1", qty = 2, price = 9.5 },
            { sku = "B-7", qty = 1, price = 120.25 },
            { sku = "C-3", qty = 4, price = 0.75 },
        },
    }
end
]]
    },

    price = {
      depends_on = { "orders" },
      language = "python",
      code = [==[
from decimal import Decimal

def run(inputs):
    order = inputs["orders"]
    assert order["customer"]["id"] == 9007199254740993, "64-bit id survived"
    total = sum(Decimal(str(l["price"])) * l["qty"] for l in order["lines"])
    print(f"pricing {len(order['lines'])} lines for {order['customer']['name']}")
    return {
        "customer": order["customer"],
        "skus": [l["sku"] for l in order["lines"]],
        "total": str(total),
        "discount": None,
        "notes": [],
        "matrix": [[l["qty"], l["price"]] for l in order["lines"]],
    }
]==]
    },

    label = {
      depends_on = { "price" },
      language = "shell",
      code = [[
run() {
    local data
    data=$(parse_input price)
    local total
    total=$(printf '%s' "$data" | grep -o '"total":"[0-9.]*"' | cut -d'"' -f4)
    echo "labelling a parcel worth $total" >&2
    echo "{\"label\": \"PARCEL-$total\", \"raw_bytes\": ${#data}, \"has_null\": $(printf '%s' "$data" | grep -c '"discount":null')}"
}
]]
    },

    verify = {
      depends_on = { "price", "label" },
      language = "python",
      code = [[
def run(inputs=None):
    price, label = inputs["price"], inputs["label"]
    assert price["discount"] is None, "null arrives as None"
    assert label["has_null"] == 1, "the shell saw the null"
    return {
        "label": label["label"],
        "customer_id": price["customer"]["id"] + 1,
        "name": price["customer"]["name"],
        "matrix": price["matrix"],
        "discount": price["discount"],
        "notes": price["notes"],
        "checked": ("label", "total"),
    }
]]
    },

    summary = {
      depends_on = { "verify" },
      language = "lua",
      code = [[
function run(inputs)
    local v = inputs.verify
    assert(v.discount == nil, "null arrives as nil")
    assert(math.type(v.customer_id) == "integer", "still an integer")
    print(("%s for %s (customer %d)"):format(v.label, v.name, v.customer_id))
    return {
        label = v.label,
        customer_id = v.customer_id,
        cells = #v.matrix * #v.matrix[1],
        checked = v.checked,
        notes = v.notes,
        name = v.name,
    }
end
]]
    }
  }
}
