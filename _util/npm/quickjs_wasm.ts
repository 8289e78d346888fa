/** QuickJS's synchronous release build (its wasm file): the one place its version is written. @module */
export { default } from "npm:@jitl/quickjs-wasmfile-release-sync@0.32.0";
