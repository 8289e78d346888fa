/** wabt (WebAssembly text to binary): the one place its version is written. @module */
export { default } from "npm:wabt@1.0.39";
