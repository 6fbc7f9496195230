/**
 * Where the PoW worker script lives.
 *
 * From source (`bun run`, `bun test`) it is ./worker.ts next to this file. In a `bun build --compile` executable
 * the worker must be an extra entrypoint (`src/upstream/pow/worker.ts`); Bun stores entrypoints as .js files under
 * the common root of all entrypoints inside its embedded filesystem ($bunfs), while import.meta.url points at the
 * main bundle in that root, so the worker is found relative to it.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const EMBEDDED_CANDIDATES = ["./upstream/pow/worker.js", "./src/upstream/pow/worker.js", "./pow/worker.js", "./worker.js"];

export function isCompiledExecutable(metaUrl: string = import.meta.url): boolean {
  return metaUrl.includes("/$bunfs/") || metaUrl.includes("~BUN/");
}

export function powWorkerUrl(): string {
  const source = new URL("./worker.ts", import.meta.url);
  if (!isCompiledExecutable()) return source.href;
  for (const rel of EMBEDDED_CANDIDATES) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new Error(
    "PoW worker is missing from this executable: pass src/upstream/pow/worker.ts as an extra entrypoint to bun build --compile",
  );
}
