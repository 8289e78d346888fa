/**
 * Configuration files that are not regular files, made with the system's
 * mkfifo: a FIFO would block a read for ever.
 */

import assert from "node:assert/strict";
import { resolveConfig } from "../api/config.ts";

Deno.test("resolveConfig() refuses a FIFO as its configuration file, without reading it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hwfe-config-" });
  try {
    const fifo = `${dir}/config.toml`;
    const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(made.success, "mkfifo");
    await assert.rejects(
      resolveConfig({ configPath: fifo, env: {}, flags: {} }),
      new RegExp(
        `^ConfigError: ${fifo}: cannot read configuration: it is a FIFO; give a regular file$`,
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
