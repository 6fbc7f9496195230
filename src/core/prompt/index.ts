export * from "./markers.ts";
export * from "./message.ts";
export * from "./normalize-openai.ts";
export * from "./build.ts";
export * from "./thinking-injection.ts";
export * from "./history-file.ts";
