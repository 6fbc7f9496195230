/** The compiled single executable: built into a temp folder, copied alone into an empty folder, run from there. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Impit } from "impit";
import { runCommand, spawnServer } from "./support/spawn-server.ts";
import { repoRoot, tempDir } from "./support/test-server.ts";
import { startSimulator } from "../src/sim/index.ts";
import { IMPIT_BROWSER } from "../src/upstream/transport/tls-profile.ts";
import { startFingerprintServer } from "./support/tls-fingerprint-server.ts";

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

  test("dials DeepSeek with the embedded native TLS addon: okhttp by default, DS2API_TLS_PROFILE=chrome when set", async () => {
    const account = { email: "bin@example.com", password: "pw-bin" };
    const sim = await startSimulator({ powDifficulty: 500, accounts: [account] });
    const fp = await startFingerprintServer({ origin: sim.url });
    const waitHello = async (before: number) => {
      const deadline = Date.now() + 10_000;
      while (fp.hellos.length === before && Date.now() < deadline) await Bun.sleep(10);
      return fp.hellos.slice(before).map((h) => h.ja4);
    };
    const libraryJa4 = async (browser: string) => {
      const before = fp.hellos.length;
      await (await new Impit({ browser: browser as "okhttp4", ignoreTlsErrors: true }).fetch(`${fp.url}/api/v0/users/current`)).text();
      return (await waitHello(before))[0];
    };
    try {
      for (const [profile, env] of [["okhttp", {}], ["chrome", { DS2API_TLS_PROFILE: "chrome" }]] as const) {
        const dir = tempDir("ds2api-bin-tls-");
        const srv = await spawnServer([binary, "--port", "0", "--host", "127.0.0.1"], {
          cwd: dir,
          env: {
            DS2API_ADMIN_KEY: "bin-key",
            DS2API_DB_PATH: join(dir, "db.sqlite"),
            DS2API_CONFIG_JSON: JSON.stringify({ keys: ["sk-bin"], accounts: [account] }),
            DS2API_DEEPSEEK_BASE_URL: fp.url,
            DS2API_POW_WORKERS: "1",
            DS2API_TEST_MODE: "1",
            DS2API_UPSTREAM_TLS_INSECURE_LOOPBACK: "1",
            ...env,
          },
        });
        try {
          const tls = ((await (await fetch(`${srv.url}/readyz`)).json()) as { providers: { deepseek: { tls: unknown } } }).providers.deepseek.tls;
          expect(tls).toMatchObject({ requested: profile, in_use: profile, native: true });
          const before = fp.hellos.length;
          const r = await fetch(`${srv.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: "Bearer sk-bin", "content-type": "application/json" },
            body: JSON.stringify({ model: "deepseek-v4-flash-nothinking", stream: true, messages: [{ role: "user", content: `hi ${profile}` }] }),
          });
          expect(r.status).toBe(200);
          expect(await r.text()).toContain("[DONE]");
          const seen = await waitHello(before);
          expect(seen.length).toBeGreaterThan(0);
          expect(new Set(seen)).toEqual(new Set([await libraryJa4(IMPIT_BROWSER[profile])]));
        } finally {
          await srv.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } finally {
      await fp.stop();
      await sim.stop();
    }
  });
});
