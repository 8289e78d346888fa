/** picocolors, terminal colours: the one place its version is written. @module */
export { createColors } from "npm:picocolors@1.1.1";
