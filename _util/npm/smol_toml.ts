/** smol-toml, for config.toml: the one place its version is written. @module */
export * from "npm:smol-toml@1.9.1";
