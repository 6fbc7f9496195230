/**
 * The native TLS transport's addon (impit, a napi `.node` file) for a build target. The host's comes from
 * node_modules; a foreign target's package is fetched once with `npm pack impit-<platform>@<version>` (the
 * version impit itself pins) into a cache folder (DS2API_ADDON_CACHE, default ~/.cache/ds2api/addons) and
 * unpacked there. `bun build --compile` then embeds exactly that one file (see build.ts's plugin).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");

/** Bun compile target → impit's prebuilt package. Linux targets are glibc (the release archives and distroless cc). */
const PACKAGES: Record<string, string> = {
  "linux-x64": "impit-linux-x64-gnu",
  "linux-x64-baseline": "impit-linux-x64-gnu",
  "linux-x64-modern": "impit-linux-x64-gnu",
  "linux-arm64": "impit-linux-arm64-gnu",
  "linux-x64-musl": "impit-linux-x64-musl",
  "linux-arm64-musl": "impit-linux-arm64-musl",
  "darwin-x64": "impit-darwin-x64",
  "darwin-arm64": "impit-darwin-arm64",
  "windows-x64": "impit-win32-x64-msvc",
  "windows-x64-baseline": "impit-win32-x64-msvc",
  "windows-arm64": "impit-win32-arm64-msvc",
};

/** `bun-linux-x64` / undefined (host) → `linux-x64`. */
export function targetKey(target: string | undefined): string {
  if (target) return target.replace(/^bun-/, "");
  const os = process.platform === "win32" ? "windows" : process.platform;
  const musl = process.platform === "linux" && !existsSync("/lib64/ld-linux-x86-64.so.2") && !existsSync("/lib/ld-linux-aarch64.so.1") && existsSync("/lib/ld-musl-x86_64.so.1");
  return `${os}-${process.arch}${musl ? "-musl" : ""}`;
}

function impitVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, "node_modules/impit/package.json"), "utf8")) as { version: string; optionalDependencies?: Record<string, string> };
  return pkg.version;
}

function nodeFileIn(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const f = readdirSync(dir).find((n) => n.endsWith(".node"));
  return f ? join(dir, f) : undefined;
}

/** The absolute path of the `.node` file for `target` (undefined = the host), fetching its package when needed. */
export function addonFor(target: string | undefined): { file: string; pkg: string; version: string } {
  const key = targetKey(target);
  const pkg = PACKAGES[key];
  if (!pkg) throw new Error(`no impit prebuilt package is known for target ${key}`);
  const version = impitVersion();
  // The installed optional dependency, when it is this target's and the pinned version.
  const installed = join(root, "node_modules", pkg);
  if (existsSync(join(installed, "package.json"))) {
    const v = (JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { version: string }).version;
    const file = nodeFileIn(installed);
    if (v === version && file) return { file, pkg, version };
  }
  const cache = join(process.env.DS2API_ADDON_CACHE || join(homedir(), ".cache", "ds2api", "addons"), `${pkg}-${version}`);
  let file = nodeFileIn(join(cache, "package"));
  if (!file) {
    mkdirSync(cache, { recursive: true });
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const pack = Bun.spawnSync([npm, "pack", `${pkg}@${version}`, "--silent", "--pack-destination", cache], { cwd: cache, stdout: "pipe", stderr: "pipe" });
    const tgz = pack.stdout.toString().trim().split("\n").at(-1);
    if (pack.exitCode !== 0 || !tgz) throw new Error(`npm pack ${pkg}@${version} failed: ${pack.stderr.toString().trim()}`);
    const untar = Bun.spawnSync(["tar", "-xzf", join(cache, tgz), "-C", cache], { stdout: "pipe", stderr: "pipe" });
    if (untar.exitCode !== 0) throw new Error(`could not unpack ${tgz}: ${untar.stderr.toString().trim()}`);
    file = nodeFileIn(join(cache, "package"));
    if (!file) throw new Error(`${pkg}@${version} has no .node file`);
  }
  return { file, pkg, version };
}
