/** ansi-escapes, terminal escape sequences (cursor shown and hidden): the one place its version is written. @module */
export { default as ansiEscapes } from "npm:ansi-escapes@7.3.0";
