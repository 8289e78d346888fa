/** quickjs-emscripten's core API: the one place its version is written. @module */
export * from "npm:quickjs-emscripten-core@0.32.0";
