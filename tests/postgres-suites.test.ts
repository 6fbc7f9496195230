/**
 * The same tests on both stores: whole server-level suites run again with DS2API_TEST_DATABASE=postgres, so every
 * in-process test server keeps its state in a real Postgres (tests/support/test-server.ts) instead of its sqlite
 * file — admin writes and their audit, persistence across restarts, chat history, usage history, the Responses
 * store, streaming and the surfaces, the credential pools, events and jobs, shutdown. (The repositories themselves are checked method by method on both engines in
 * tests/store-contract.test.ts, the schemas in tests/store-migrations.test.ts.)
 */
import { expect, test } from "bun:test";
import { runCommand } from "./support/spawn-server.ts";
import { bunBin, repoRoot } from "./support/test-server.ts";

const SUITES = [
  "tests/admin-matrix.test.ts",
  "tests/admin-persistence.test.ts",
  "tests/admin-stack.test.ts",
  "tests/chat-history.test.ts",
  "tests/usage-history.test.ts",
  "tests/openai-responses.test.ts",
  "tests/streaming.test.ts",
  "tests/surface-matrix.test.ts",
  "tests/volcengine-pool.test.ts",
  "tests/ondemand-pool.test.ts",
  "tests/provider-pools-admin.test.ts",
  "tests/admin-hardening.test.ts",
  "tests/admin-seed-routes.test.ts",
  "tests/admin-events.test.ts",
  "tests/admin-jobs.test.ts",
  "tests/shutdown.test.ts",
  "tests/caller-modes.test.ts",
];

test(
  "server-level suites pass with their state in Postgres",
  async () => {
    const r = await runCommand([bunBin, "test", "--timeout", "60000", ...SUITES], { cwd: repoRoot, env: { DS2API_TEST_DATABASE: "postgres" } });
    const out = `${r.stdout}\n${r.stderr}`;
    const passed = Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0);
    const failed = Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? -1);
    if (r.code !== 0 || failed !== 0) console.error(out.split("\n").filter((l) => /\(fail\)|error:|Expected|Received/.test(l)).slice(0, 60).join("\n"));
    expect({ code: r.code, failed }).toEqual({ code: 0, failed: 0 });
    // Every suite ran (not an empty run that "passes").
    expect(passed).toBeGreaterThan(250);
    expect(out).toContain(`Ran ${passed} tests across ${SUITES.length} files`);
  },
  600_000,
);
