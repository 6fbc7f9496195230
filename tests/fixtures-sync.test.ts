/** The vendored tests/fixtures must equal ../shared/fixtures (the team's source of truth) when it is present. */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { FIXTURES_DIR, SHARED_FIXTURES_DIR } from "./support/fixtures.ts";

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

test("vendored fixtures match ../shared/fixtures", () => {
  const ours = files(FIXTURES_DIR);
  expect(ours.length).toBeGreaterThan(10);
  if (!existsSync(SHARED_FIXTURES_DIR)) return; // outside the team workspace the vendored copy is all there is
  const shared = files(SHARED_FIXTURES_DIR);
  expect(ours).toEqual(shared);
  for (const f of shared) expect(readFileSync(join(FIXTURES_DIR, f)).equals(readFileSync(join(SHARED_FIXTURES_DIR, f)))).toBe(true);
});
