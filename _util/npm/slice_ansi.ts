/** slice-ansi, a slice of a coloured string by terminal columns: the one place its version is written. @module */
export { default as sliceAnsi } from "npm:slice-ansi@9.0.1";
