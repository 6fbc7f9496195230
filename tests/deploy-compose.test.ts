/**
 * deploy/compose.cluster.yml and deploy/nginx.conf (docs/DEPLOY.md "Several instances") hold together without a
 * Docker engine: the YAML parses (anchors and merge keys resolved), every ds2api service has the same environment
 * but its own instance id, the shared services are there, and nginx balances over exactly those services with
 * buffering off and long read timeouts for streams.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./support/test-server.ts";

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: unknown;
  volumes?: string[];
  ports?: string[];
}

const compose = Bun.YAML.parse(readFileSync(join(repoRoot, "deploy/compose.cluster.yml"), "utf8")) as { services: Record<string, Service> };
const nginx = readFileSync(join(repoRoot, "deploy/nginx.conf"), "utf8");

test("compose: three ds2api instances from one image with identical env except DS2API_INSTANCE_ID", () => {
  const instances = Object.entries(compose.services).filter(([, s]) => s.image === "ds2api:latest");
  expect(instances.map(([name]) => name)).toEqual(["ds2api-a", "ds2api-b", "ds2api-c"]);
  const ids = instances.map(([, s]) => s.environment?.DS2API_INSTANCE_ID);
  expect(new Set(ids).size).toBe(3);
  const withoutId = instances.map(([, s]) => {
    const { DS2API_INSTANCE_ID: _id, ...rest } = s.environment ?? {};
    return rest;
  });
  for (const env of withoutId) expect(env).toEqual(withoutId[0]!);
  const env = withoutId[0]!;
  for (const name of ["DS2API_DATABASE_URL", "DS2API_REDIS_URL", "DS2API_SECRET_KEY", "DS2API_ADMIN_KEY"]) expect(env[name]).toBeString();
  expect(env.DS2API_DATABASE_URL).toStartWith("postgres://");
  expect(env.DS2API_DATABASE_URL).toContain("@postgres:5432/");
  expect(env.DS2API_REDIS_URL).toBe("redis://redis:6379");
  for (const [, s] of instances) expect(s.depends_on).toMatchObject({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
});

test("compose: postgres 15, redis 7 (or valkey), nginx with the config mounted and the only published port", () => {
  expect(compose.services.postgres?.image).toBe("postgres:15");
  expect(compose.services.redis?.image).toMatch(/^(redis:7|valkey\/valkey:)/);
  expect(compose.services.nginx?.volumes).toContain("./nginx.conf:/etc/nginx/conf.d/default.conf:ro");
  const published = Object.entries(compose.services).filter(([, s]) => s.ports?.length).map(([name]) => name);
  expect(published).toEqual(["nginx"]);
});

test("nginx: balances over exactly the compose instances, no buffering, long reads", () => {
  const servers = [...nginx.matchAll(/^\s*server\s+([\w-]+):5001\b/gm)].map((m) => m[1]);
  expect(servers).toEqual(Object.keys(compose.services).filter((n) => n.startsWith("ds2api-")));
  expect(nginx).toContain("proxy_buffering off;");
  const reads = [...nginx.matchAll(/proxy_read_timeout\s+(\d+)s;/g)].map((m) => Number(m[1]));
  expect(reads.length).toBeGreaterThan(0);
  for (const s of reads) expect(s).toBeGreaterThan(900); // above DS2API_TURN_TIMEOUT_SECONDS
  // Balanced braces: a truncated edit would not load.
  expect(nginx.split("{").length).toBe(nginx.split("}").length);
});
