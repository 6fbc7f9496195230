export * from "./estimate.ts";
export * from "./tokenizer.ts";
export * from "./usage.ts";
