/** esbuild's WebAssembly build, for TypeScript steps: the one place its version is written. @module */
export * from "npm:esbuild-wasm@0.28.2/esm/browser.js";
