/**
 * Durability under `kill -9`: a ds2api process takes admin writes (new client keys, new accounts) from
 * several concurrent writers and is killed with SIGKILL at a random moment. After a restart on the same
 * sqlite file every write that had been acknowledged (2xx) must still be there: each acknowledged key must
 * authenticate, each acknowledged account must be listed.
 *   bun bench/durability.ts [--rounds 6] [--writers 4]
 * Prints, per round, the acknowledged writes and how many survived; exits 1 when any acknowledged write is lost.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sourceCommand, spawnServer, type SpawnedServer } from "../tests/support/spawn-server.ts";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg("--rounds", 6);
const WRITERS = arg("--writers", 4);
const ADMIN_KEY = "durability-admin-key-0123456789";

const dir = mkdtempSync(join(tmpdir(), "ds2api-durability-"));
const env = { DS2API_ADMIN_KEY: ADMIN_KEY, DS2API_DB_PATH: join(dir, "db.sqlite"), DS2API_POW_WORKERS: "1", PORT: "0", HOST: "127.0.0.1" };
let current: SpawnedServer | undefined;

const admin = (url: string, method: string, path: string, body?: unknown) =>
  fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Writes until the process dies; returns what was acknowledged. */
async function writeUntilDead(url: string, round: number, writer: number, acked: { keys: string[]; accounts: string[] }): Promise<void> {
  for (let n = 0; ; n++) {
    const key = `sk-durability-${round}-${writer}-${n}-${crypto.randomUUID().slice(0, 8)}`;
    const email = `dur-${round}-${writer}-${n}@example.com`;
    try {
      const k = await admin(url, "POST", "/admin/keys", { key, name: `dur ${round}/${writer}/${n}` });
      if (k.ok) acked.keys.push(key);
      const a = await admin(url, "POST", "/admin/accounts", { email, password: `pw-${n}-secret` });
      if (a.ok) acked.accounts.push(email);
    } catch {
      return; // connection refused / reset: the process is gone
    }
  }
}

async function listedAccounts(url: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (let page = 1; ; page++) {
    const r = await admin(url, "GET", `/admin/accounts?page=${page}&page_size=100`);
    const j = (await r.json()) as { items: { identifier?: string; email?: string }[]; total_pages: number };
    for (const a of j.items) out.add(a.email ?? a.identifier ?? "");
    if (page >= j.total_pages) return out;
  }
}

async function keyWorks(url: string, key: string): Promise<boolean> {
  const r = await fetch(`${url}/anthropic/v1/messages/count_tokens`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
  });
  await r.arrayBuffer();
  return r.status !== 401 && r.status !== 403;
}

let lost = 0;
try {
  const all = { keys: [] as string[], accounts: [] as string[] };
  for (let round = 1; round <= ROUNDS; round++) {
    current = await spawnServer(sourceCommand(), { cwd: dir, env });
    const acked = { keys: [] as string[], accounts: [] as string[] };
    const writers = Array.from({ length: WRITERS }, (_, w) => writeUntilDead(current!.url, round, w, acked));
    // Let some writes land, then kill at a random moment in the middle of the traffic.
    while (acked.keys.length + acked.accounts.length < 20) await Bun.sleep(5);
    await Bun.sleep(50 + Math.floor(Math.random() * 400));
    current.proc.kill("SIGKILL");
    await current.proc.exited;
    await Promise.all(writers);
    all.keys.push(...acked.keys);
    all.accounts.push(...acked.accounts);

    current = await spawnServer(sourceCommand(), { cwd: dir, env });
    const listed = await listedAccounts(current.url);
    const missingAccounts = all.accounts.filter((e) => !listed.has(e));
    const missingKeys: string[] = [];
    for (const k of all.keys) if (!(await keyWorks(current.url, k))) missingKeys.push(k);
    lost += missingAccounts.length + missingKeys.length;
    console.log(
      `round ${round}: killed after ${acked.keys.length} keys + ${acked.accounts.length} accounts acknowledged; ` +
        `after restart ${all.keys.length - missingKeys.length}/${all.keys.length} keys authenticate, ` +
        `${all.accounts.length - missingAccounts.length}/${all.accounts.length} accounts listed`,
    );
    await current.stop();
    current = undefined;
  }
  console.log(lost === 0 ? `durability: no acknowledged write lost in ${ROUNDS} kill -9 rounds` : `durability: ${lost} acknowledged writes LOST`);
} finally {
  current?.proc.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
process.exit(lost === 0 ? 0 : 1);
