import pkg from "../package.json" with { type: "json" };

/** The build's version (from package.json, embedded at compile time). */
export const VERSION: string = pkg.version;
