/** yaml, for config.yaml: the one place its version is written. @module */
export * from "npm:yaml@2.9.1";
