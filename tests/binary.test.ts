/** The compiled single executable: built into a temp folder, copied alone into an empty folder, run from there. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runCommand, spawnServer } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";

let buildDir: string;
let runDir: string;
let binary: string;

beforeAll(async () => {
  buildDir = tempDir("ds2api-build-");
  runDir = tempDir("ds2api-run-");
  const built = join(buildDir, "ds2api");
  const r = await runCommand([process.execPath, "run", join(repoRoot, "scripts/build.ts"), "--outfile", built], { cwd: repoRoot });
  if (r.code !== 0) throw new Error(`build failed: ${r.stderr}${r.stdout}`);
  binary = join(runDir, "ds2api");
  copyFileSync(built, binary);
  rmSync(buildDir, { recursive: true, force: true });
}, 120_000);

afterAll(() => rmSync(runDir, { recursive: true, force: true }));

describe("compiled binary", () => {
  test("--version and --help", async () => {
    const v = await runCommand([binary, "--version"], { cwd: runDir });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^ds2api \d+\.\d+\.\d+/);
    const h = await runCommand([binary, "--help"], { cwd: runDir });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("DS2API_ADMIN_KEY");
  });

  test("starts from an empty folder, creates its sqlite file and answers /healthz", async () => {
    expect(existsSync(join(runDir, "data"))).toBe(false);
    const srv = await spawnServer([binary, "--port", "0", "--host", "127.0.0.1"], { cwd: runDir, env: { DS2API_ADMIN_KEY: "bin-key" } });
    try {
      const r = await fetch(`${srv.url}/healthz`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: "ok" });
      expect((await fetch(`${srv.url}/v1/models`)).status).toBe(200);
      expect(existsSync(join(runDir, "data", "ds2api.sqlite"))).toBe(true);
      const hc = await runCommand([binary, "healthcheck", "--port", new URL(srv.url).port], { cwd: runDir });
      expect(hc.code).toBe(0);
    } finally {
      expect(await srv.stop()).toBe(0);
    }
    const down = await runCommand([binary, "healthcheck", "--port", "1"], { cwd: runDir });
    expect(down.code).toBe(1);
  });
});
