/**
 * The import graph runs one way: every import in src/ goes to a layer at or below its own. A new upward edge (e.g.
 * the store importing the account pool, or an observer importing the HTTP layer) fails here with the offending
 * line. Within one layer anything goes (cycles inside a folder are caught by tests/provider-seam.test.ts for the
 * seam, and by review elsewhere).
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { Glob } from "bun";
import { repoRoot } from "./support/test-server.ts";

const SRC = join(repoRoot, "src");

/** Higher may import lower (or equal). */
const LAYERS: [prefix: string, rank: number][] = [
  ["main.ts", 100],
  ["cli/", 90],
  ["server.ts", 80],
  ["app.ts", 70],
  ["api/", 60],
  ["sim/", 60],
  // The admin core: services between the admin routes and the store (may use pool, store, config, security, core).
  ["admin/", 57],
  ["context.ts", 55],
  ["upstream/", 50],
  ["pool/", 40],
  ["config/", 30],
  ["security/", 25],
  // Cluster coordination over Redis (leases, tokens, quotas, responses, change bus): uses the store's SecretBox and the logger.
  ["cluster/", 22],
  ["observability/", 20],
  ["store/", 15],
  ["runtime/", 10],
  ["core/", 0],
  ["version.ts", 0],
];

function rankOf(file: string): number {
  const rel = relative(SRC, file);
  const hit = LAYERS.find(([prefix]) => rel === prefix || rel.startsWith(prefix));
  if (!hit) throw new Error(`no layer for src/${rel}: add it to LAYERS`);
  return hit[1];
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/gm;

test("every import in src/ goes to the same layer or a lower one", () => {
  const upward: string[] = [];
  let edges = 0;
  for (const rel of new Glob("**/*.ts").scanSync(SRC)) {
    if (rel.endsWith(".generated.ts") || rel.endsWith(".d.ts")) continue;
    const file = join(SRC, rel);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[1]!);
      if (!target.startsWith(SRC + "/")) continue;
      edges++;
      if (rankOf(target) > rankOf(file)) upward.push(`src/${rel} imports ${relative(repoRoot, target)}`);
    }
  }
  expect(edges).toBeGreaterThan(300); // the scan really read the imports
  expect(upward).toEqual([]);
});

test("the check catches an upward edge", () => {
  expect(rankOf(join(SRC, "store/store.ts"))).toBeLessThan(rankOf(join(SRC, "pool/account-pool.ts")));
  expect(rankOf(join(SRC, "observability/metrics.ts"))).toBeLessThan(rankOf(join(SRC, "api/start-turn.ts")));
  expect(rankOf(join(SRC, "admin/accounts-service.ts"))).toBeLessThan(rankOf(join(SRC, "api/admin/accounts-routes.ts")));
  expect(rankOf(join(SRC, "store/store.ts"))).toBeLessThan(rankOf(join(SRC, "admin/accounts-service.ts")));
});
