/**
 * Builds the single executable `dist/ds2api` (or `--outfile`), minified, with the PoW worker, the admin page and
 * the target's native TLS addon (impit's `.node` file, scripts/native-addon.ts) embedded.
 * Usage: bun run scripts/build.ts [--target bun-linux-x64] [--outfile path]
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BunPlugin } from "bun";
import { writeConsoleModule } from "./build-console.ts";
import { addonFor } from "./native-addon.ts";

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

/**
 * impit's loader (`impit/index.js`) tries every platform's package by name; in the executable it is replaced by
 * one `require` of this target's `.node` file, which `bun build --compile` embeds. Only that file is embedded.
 */
const addon = addonFor(target);
const impitAddon: BunPlugin = {
  name: "impit-addon",
  setup(build) {
    build.onResolve({ filter: /^\.\/index\.js$/ }, (a) => (/[\\/]impit[\\/]index\.wrapper\.js$/.test(a.importer) ? { path: "impit-native-addon", namespace: "impit-addon" } : undefined));
    build.onLoad({ filter: /.*/, namespace: "impit-addon" }, () => ({ contents: `module.exports = require(${JSON.stringify(addon.file)});`, loader: "js" }));
  },
};

const result = await Bun.build({
  entrypoints,
  root: join(root, "src"),
  compile: { ...(target ? { target: target as Bun.Build.CompileTarget } : {}), outfile },
  minify: true,
  bytecode: true,
  sourcemap: "none",
  plugins: [impitAddon],
});
if (!result.success) {
  for (const log of result.logs) console.error(String(log));
  console.error("build failed");
  process.exit(1);
}
console.log(`built ${outfile} (TLS addon ${addon.pkg}@${addon.version})`);
