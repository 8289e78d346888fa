/** commander, the command-line parser: the one place its version is written. @module */
export * from "npm:commander@15.1.0";
