/** Pyodide (CPython compiled to WebAssembly): the one place its version is written. @module */
export * from "npm:pyodide@314.0.7";
