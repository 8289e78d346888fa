-- A TypeScript step between Lua steps. esbuild strips the types (they are
-- not checked) and QuickJS runs the result; errors point at the lines of
-- the TypeScript source.
workflow = {
  name = "typescript_step",
  description = "Lua -> TypeScript -> Lua",

  steps = {
    readings = {
      language = "lua",
      code = [[
function run()
    return { celsius = { 21.5, 19.0, 23.25, 18.75 }, site = "roof" }
end
]]
    },

    convert = {
      depends_on = { "readings" },
      language = "typescript",
      code = [==[
interface Readings { celsius: number[]; site: string }
type Summary = { site: string; fahrenheit: number[]; warmest: number };

const toF = (c: number): number => Math.round((c * 9 / 5 + 32) * 100) / 100;

function run(inputs: { readings: Readings }): Summary {
  const { celsius, site } = inputs.readings;
  const fahrenheit = celsius.map(toF);
  return { site, fahrenheit, warmest: Math.max(...fahrenheit) };
}
]==]
    },

    check = {
      depends_on = { "convert" },
      language = "lua",
      code = [[
function run(inputs)
    local s = inputs.convert
    assert(#s.fahrenheit == 4 and s.warmest == 73.85, "conversion")
    print(("warmest at %s: %.2f F"):format(s.site, s.warmest))
    return { ok = true, warmest = s.warmest }
end
]]
    }
  }
}
