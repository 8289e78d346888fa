/** Source maps, for TypeScript steps' error positions: the one place its version is written. @module */
export * from "npm:@jridgewell/trace-mapping@0.3.31";
