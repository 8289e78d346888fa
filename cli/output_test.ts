import assert from "node:assert/strict";
import { colourWanted, liveWanted } from "./output.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("colourWanted() colours a terminal, not a pipe, and never with NO_COLOR set", () => {
  assert.equal(colourWanted(true, env({})), true);
  assert.equal(colourWanted(false, env({})), false);
  assert.equal(colourWanted(true, env({ NO_COLOR: "1" })), false);
  assert.equal(colourWanted(true, env({ NO_COLOR: "anything" })), false);
  // An empty NO_COLOR is as if unset (no-color.org).
  assert.equal(colourWanted(true, env({ NO_COLOR: "" })), true);
  assert.equal(colourWanted(true, env({ TERM: "dumb" })), false);
});

Deno.test("colourWanted() obeys FORCE_COLOR, into a pipe and over NO_COLOR, and FORCE_COLOR=0", () => {
  for (const force of ["1", "2", "3", "true", ""]) {
    assert.equal(colourWanted(false, env({ FORCE_COLOR: force })), true, `FORCE_COLOR=${force}`);
    assert.equal(colourWanted(false, env({ FORCE_COLOR: force, NO_COLOR: "1" })), true);
  }
  for (const force of ["0", "false"]) {
    assert.equal(colourWanted(true, env({ FORCE_COLOR: force })), false, `FORCE_COLOR=${force}`);
  }
  // A value it does not know leaves the choice to the rest.
  assert.equal(colourWanted(true, env({ FORCE_COLOR: "maybe" })), true);
  assert.equal(colourWanted(false, env({ FORCE_COLOR: "maybe" })), false);
});

Deno.test("liveWanted() only on a terminal for people: not piped, --json, -q, CI or TERM=dumb", () => {
  const terminal = { isTerminal: true };
  assert.equal(liveWanted(terminal, env({})), true);
  assert.equal(liveWanted({ isTerminal: false }, env({})), false);
  assert.equal(liveWanted({ ...terminal, json: true }, env({})), false);
  assert.equal(liveWanted({ ...terminal, quiet: true }, env({})), false);
  for (const ci of ["true", "1", "yes", "woodpecker"]) {
    assert.equal(liveWanted(terminal, env({ CI: ci })), false, `CI=${ci}`);
  }
  for (const ci of ["false", "0", ""]) {
    assert.equal(liveWanted(terminal, env({ CI: ci })), true, `CI=${ci}`);
  }
  assert.equal(liveWanted(terminal, env({ TERM: "dumb" })), false);
  // Colour is another matter: the board stays without it, and forcing it brings no board to a pipe.
  assert.equal(liveWanted(terminal, env({ NO_COLOR: "1" })), true);
  assert.equal(liveWanted({ isTerminal: false }, env({ FORCE_COLOR: "1" })), false);
});
