export * from "./native.ts";
export * from "./aliases.ts";
export * from "./catalog.ts";
export * from "./resolve.ts";
export * from "./lists.ts";
