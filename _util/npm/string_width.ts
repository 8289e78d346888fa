/** string-width, the columns a string takes on a terminal: the one place its version is written. @module */
export { default as stringWidth } from "npm:string-width@8.3.0";
