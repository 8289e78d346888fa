/** The WASI implementation wasm steps run on: the one place its version is written. @module */
export * from "npm:@bjorn3/browser_wasi_shim@0.4.2";
