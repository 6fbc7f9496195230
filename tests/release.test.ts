/**
 * scripts/build-release.sh: archives for the host target and a foreign one (Windows: a zip with an .exe),
 * each holding the executable, README and LICENSE, and a sha256sums.txt that matches the files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { runCommand } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";
import { zipEntryBytes, zipEntryNames } from "./support/zip-read.ts";

const version = pkg.version;
let out: string;
let build: { code: number; stdout: string; stderr: string };

/** scripts/build-release.sh makes the Windows zip with `zip` or, failing that, python3. */
const ZIP_TOOL_MISSING = Bun.which("zip") || Bun.which("python3") ? undefined : "release test needs zip (or python3) for the Windows archive: apt-get install zip";

beforeAll(async () => {
  if (ZIP_TOOL_MISSING) throw new Error(ZIP_TOOL_MISSING);
  out = tempDir("ds2api-release-");
  build = await runCommand(["bash", join(repoRoot, "scripts/build-release.sh"), "linux-x64", "windows-x64"], {
    cwd: repoRoot,
    env: { DS2API_RELEASE_DIR: out },
  });
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

describe("build-release.sh", () => {
  test("builds one archive per target and checksums for each", () => {
    if (build.code !== 0) throw new Error(`build-release failed: ${build.stderr}${build.stdout}`);
    const files = readdirSync(out).sort();
    expect(files).toEqual([`ds2api-${version}-linux-x64.tar.gz`, `ds2api-${version}-windows-x64.zip`, "sha256sums.txt"]);
    const lines = readFileSync(join(out, "sha256sums.txt"), "utf8").trim().split("\n");
    expect(lines.length).toBe(2);
    for (const line of lines) {
      const [hash, name] = line.split(/\s+\*?/);
      expect(hash).toBe(sha256(join(out, name!)));
    }
  });

  test("the Linux archive runs from where it was unpacked and carries README and LICENSE", async () => {
    const dir = tempDir("ds2api-unpack-");
    try {
      const x = await runCommand(["tar", "-xzf", join(out, `ds2api-${version}-linux-x64.tar.gz`), "-C", dir], { cwd: dir });
      expect(x.code).toBe(0);
      const folder = join(dir, `ds2api-${version}-linux-x64`);
      for (const f of ["ds2api", "README.md", "LICENSE"]) expect(existsSync(join(folder, f))).toBe(true);
      expect(readFileSync(join(folder, "LICENSE"), "utf8")).toContain("MIT License");
      const v = await runCommand([join(folder, "ds2api"), "--version"], { cwd: dir });
      expect(v.code).toBe(0);
      expect(v.stdout.trim()).toBe(`ds2api ${version}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the Windows archive is a zip holding a PE executable", () => {
    const zip = join(out, `ds2api-${version}-windows-x64.zip`);
    const names = zipEntryNames(zip);
    for (const f of ["ds2api.exe", "README.md", "LICENSE"]) expect(names).toContain(`ds2api-${version}-windows-x64/${f}`);
    expect(zipEntryBytes(zip, `ds2api-${version}-windows-x64/ds2api.exe`, 2).subarray(0, 2).toString("latin1")).toBe("MZ");
  });

  test("an unknown target is refused before building anything", async () => {
    const r = await runCommand(["bash", join(repoRoot, "scripts/build-release.sh"), "plan9-mips"], { cwd: repoRoot, env: { DS2API_RELEASE_DIR: out } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown target 'plan9-mips'");
  });
});
