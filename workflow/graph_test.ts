import assert from "node:assert/strict";
import { defineWorkflow } from "./validate.ts";
import { planLevels } from "./plan.ts";
import { graph, graphDot, graphMermaid, graphText } from "./graph.ts";

const { workflow } = defineWorkflow({
  name: "demo",
  steps: {
    fetch: { language: "python", code: "" },
    count: { language: "lua", depends_on: ["fetch"], code: "" },
    'say "hi"': { language: "shell", depends_on: ["fetch"], code: "" },
    report: { language: "javascript", depends_on: ["count", 'say "hi"'], code: "" },
  },
});
const plan = planLevels(workflow.steps.values());

Deno.test("graphMermaid(): a flowchart with a subgraph per level and generated ids", () => {
  assert.equal(
    graphMermaid(workflow, plan),
    [
      "flowchart TD",
      '  subgraph level1 ["level 1"]',
      '    s0["fetch<br/>python"]',
      "  end",
      '  subgraph level2 ["level 2"]',
      '    s1["count<br/>lua"]',
      '    s2["say #34;hi#34;<br/>shell"]',
      "  end",
      '  subgraph level3 ["level 3"]',
      '    s3["report<br/>javascript"]',
      "  end",
      "  s0 --> s1",
      "  s0 --> s2",
      "  s1 --> s3",
      "  s2 --> s3",
    ].join("\n"),
  );
});

Deno.test("graphMermaid(): no name can close its label or add markup", () => {
  const { workflow: hostile } = defineWorkflow({
    steps: { 'a"] --> x[<img src=x onerror=alert(1)>': { language: "lua", code: "" } },
  });
  const text = graphMermaid(hostile, planLevels(hostile.steps.values()));
  const label = text.split("\n")[2];
  assert.match(label, /^ {4}s0\["[^"<>\[\]]*<br\/>lua"\]$/);
});

Deno.test("graphDot(): quoted names, a rank per level, and the edges", () => {
  assert.equal(
    graphDot(workflow, plan),
    [
      'digraph "demo" {',
      "  rankdir=TB;",
      '  node [shape=box, style=rounded, fontname="sans-serif"];',
      '  "fetch" [label="fetch\\npython"];',
      '  "count" [label="count\\nlua"];',
      '  "say \\"hi\\"" [label="say \\"hi\\"\\nshell"];',
      '  "report" [label="report\\njavascript"];',
      '  { rank=same; /* level 1 */ "fetch"; }',
      '  { rank=same; /* level 2 */ "count"; "say \\"hi\\""; }',
      '  { rank=same; /* level 3 */ "report"; }',
      '  "fetch" -> "count";',
      '  "fetch" -> "say \\"hi\\"";',
      '  "count" -> "report";',
      '  "say \\"hi\\"" -> "report";',
      "}",
    ].join("\n"),
  );
});

Deno.test("graphText(): each level, each step's language and what it waits for", () => {
  assert.equal(
    graphText(workflow, plan),
    [
      "demo: 4 steps in 3 levels",
      "level 1",
      "  fetch     python",
      "level 2",
      "  count     lua         ← fetch",
      '  say "hi"  shell       ← fetch',
      "level 3",
      '  report    javascript  ← count, say "hi"',
    ].join("\n"),
  );
  assert.equal(graph(workflow, plan, "text"), graphText(workflow, plan));
});
