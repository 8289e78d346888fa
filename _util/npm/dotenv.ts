/** dotenv, for .env: the one place its version is written. @module */
export * from "npm:dotenv@18.0.10";
