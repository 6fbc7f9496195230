/**
 * Builds the single executable `dist/ds2api` (or `--outfile`), minified, with the PoW worker and the
 * admin page embedded. Usage: bun run scripts/build.ts [--target bun-linux-x64] [--outfile path]
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeConsoleModule } from "./build-console.ts";

const root = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const target = flag("--target");
const outfile = flag("--outfile") ?? join(root, "dist", target?.includes("windows") ? "ds2api.exe" : "ds2api");

/** Extra entrypoints: files loaded at run time by `new Worker(...)` must be bundled alongside main. */
export const WORKER_ENTRYPOINTS = ["src/upstream/pow/worker.ts"];

const entrypoints = ["src/main.ts", ...WORKER_ENTRYPOINTS.filter((p) => existsSync(join(root, p)))].map((p) => join(root, p));
// The admin console (public/) is embedded as a generated module; refresh it so the binary carries the current page.
if (await writeConsoleModule()) console.log("regenerated src/api/admin-console/assets.generated.ts from public/");
mkdirSync(dirname(outfile), { recursive: true });
const cmd = [process.execPath, "build", "--compile", "--bytecode", "--minify", "--sourcemap=none", ...(target ? [`--target=${target}`] : []), ...entrypoints, "--outfile", outfile];
const proc = Bun.spawnSync(cmd, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(proc.exitCode ?? 1);
}
console.log(`built ${outfile}`);
