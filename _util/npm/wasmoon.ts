/** wasmoon (Lua 5.4 compiled to WebAssembly): the one place its version is written. @module */
export * from "npm:wasmoon@1.16.0";
