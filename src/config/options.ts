/**
 * Process options: CLI flags win over environment variables, which win over defaults.
 * The names are a contract shared with the Go ds2api (see docs/api-surface.md §14).
 */
import { hostname } from "node:os";
import { type LogLevel, parseLogLevel } from "../observability/logger.ts";
import type { TurnLimitEnv } from "./runtime-settings.ts";
import { parseTrustedProxies, TrustedProxyError } from "../security/trusted-proxies.ts";
import { parseVolcengineEnv, type VolcengineEnv } from "./volcengine-config.ts";
import { PROMPT_MARKER_STYLES, type PromptMarkerStyle } from "./human-pacing.ts";
import { isTlsProfile, TLS_PROFILES } from "./tls-profile-names.ts";

export interface ServerOptions {
  port: number;
  host: string;
  dbPath: string;
  /** ds2api-style config.json path; `configPathExplicit` tells whether the operator named it. */
  configPath: string;
  configPathExplicit: boolean;
  /** Inline config JSON (or base64 of it) from DS2API_CONFIG_JSON. */
  configJson?: string;
  adminKey?: string;
  deepseekBaseUrl: string;
  /** DS2API_TLS_PROFILE: the upstream TLS profile when the `upstream.tls_profile` setting is unset. */
  tlsProfile?: string;
  /** VOLCENGINE_API_URL, VOLCENGINE_X_WEB_ID (comma-separated), VOLCENGINE_AUTHORIZATION. */
  volcengine: VolcengineEnv;
  accountMaxInflight?: number;
  accountMaxQueue?: number;
  globalMaxInflight?: number;
  powWorkers?: number;
  allowDirectToken: boolean;
  /** Fetch attachment URLs that point at loopback / private addresses (off: a caller cannot reach internal services). */
  allowPrivateAttachmentUrls: boolean;
  /** Ollama `/api/chat` and `/api/generate` without a key for loopback callers (DS2API_OLLAMA_LOOPBACK_OPEN; off by default). */
  ollamaLoopbackOpen: boolean;
  /** HS256 secret for admin JWTs (DS2API_JWT_SECRET); a random per-installation secret otherwise. */
  jwtSecret?: string;
  /** Serve /metrics without the admin key (DS2API_METRICS_PUBLIC). */
  metricsPublic: boolean;
  /** How long a shutdown lets in-flight streams finish (DS2API_SHUTDOWN_TIMEOUT_SECONDS). */
  shutdownTimeoutSeconds: number;
  /** Upstream idle / turn / header timeouts, account attempts, queue wait (DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS, …). */
  turnLimits: TurnLimitEnv;
  logLevel: LogLevel;
  /** Body limit of the conversation routes: chat, messages, generateContent, responses (DS2API_MAX_BODY_MB). */
  maxBodyBytes: number;
  /** Body limit of every other route: count_tokens, embeddings, admin, … (DS2API_MAX_SMALL_BODY_MB). */
  maxSmallBodyBytes: number;
  /** Longest flattened prompt, in characters, a turn or count_tokens accepts (DS2API_MAX_PROMPT_CHARS). */
  maxPromptChars: number;
  /** A request body must have arrived this long after the headers (DS2API_BODY_TIMEOUT_SECONDS). */
  bodyTimeoutMs: number;
  /** Idle keep-alive connections are closed after this many seconds (DS2API_IDLE_TIMEOUT_SECONDS). */
  idleTimeoutSeconds: number;
  simulate: boolean;
  /** Proxies whose X-Forwarded-For / X-Real-IP are believed (DS2API_TRUSTED_PROXIES: IPs / CIDRs). */
  trustedProxies: string[];
  /** Key for the secrets kept in sqlite (DS2API_SECRET_KEY); else `<db>.key` beside the database. */
  secretKey?: string;
  /** Several instances (docs/DEPLOY.md): the store on Postgres instead of sqlite (DS2API_DATABASE_URL=postgres://…). */
  databaseUrl?: string;
  /** Cluster coordination over Redis / Valkey (DS2API_REDIS_URL=redis://…): leases, logins, quotas, responses, change events. */
  redisUrl?: string;
  /** Prefix of every Redis key (DS2API_REDIS_PREFIX, default `ds2api:`). */
  redisPrefix: string;
  /** This instance's name in the cluster (DS2API_INSTANCE_ID, default `hostname:pid`). */
  instanceId: string;
  /** How long an account lease lives without renewal (DS2API_CLUSTER_LEASE_TTL_SECONDS, default 30): a crashed instance's leases are back after this. */
  leaseTtlSeconds: number;
  /** How long a start waits for Postgres / Redis before giving up (DS2API_DEPENDENCY_START_TIMEOUT_SECONDS, default 60). */
  dependencyStartTimeoutSeconds: number;
  /** OnDemand API keys (ONDEMAND_APIKEYS, comma-separated; added to the stored pool at start). */
  ondemandApiKeys: string[];
  /** OnDemand Chat API base (ONDEMAND_API_BASE; the `ondemand.api_base` setting wins). */
  ondemandApiBase?: string;
  /** Prompt role markers when the `prompt.markers` setting is unset (DS2API_PROMPT_MARKERS: native, ascii, plain). */
  promptMarkers?: PromptMarkerStyle;
}

export type Env = Record<string, string | undefined>;

export class OptionsError extends Error {}

const FLAGS_WITH_VALUE: Record<string, keyof ServerOptions> = {
  "--port": "port",
  "--host": "host",
  "--db": "dbPath",
  "--config": "configPath",
  "--log-level": "logLevel",
};

function intFrom(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = Number(raw.trim());
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OptionsError(`${name} must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`);
  }
  return v;
}

function secondsFrom(name: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const v = Number(raw.trim());
  if (!Number.isFinite(v) || v < 0 || v > max) throw new OptionsError(`${name} must be a number of seconds between 0 and ${max} (got ${JSON.stringify(raw)})`);
  return v;
}

function boolFrom(raw: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((raw ?? "").trim());
}

/** Flags given on the command line, as raw strings. Unknown flags are an error so typos are not silently ignored. */
export function parseFlags(argv: string[]): { values: Partial<Record<keyof ServerOptions, string>>; simulate: boolean } {
  const values: Partial<Record<keyof ServerOptions, string>> = {};
  let simulate = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--simulate") {
      simulate = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS_WITH_VALUE[name];
    if (!key) throw new OptionsError(`unknown option ${JSON.stringify(name)} (see --help)`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new OptionsError(`option ${name} needs a value`);
    values[key] = value;
  }
  return { values, simulate };
}

function baseUrlFrom(raw: string | undefined): string {
  const value = raw?.trim() || "https://chat.deepseek.com";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError(`DS2API_DEEPSEEK_BASE_URL must be an http(s) origin such as https://chat.deepseek.com (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new OptionsError(`DS2API_DEEPSEEK_BASE_URL must use http or https (got ${url.protocol})`);
  return value.replace(/\/+$/, "");
}

function volcengineFrom(env: Env): VolcengineEnv {
  const { value, problem } = parseVolcengineEnv(env);
  if (problem) throw new OptionsError(problem);
  return value;
}

function promptMarkersFrom(raw: string | undefined): PromptMarkerStyle | undefined {
  const v = raw?.trim().toLowerCase();
  if (!v) return undefined;
  const style = PROMPT_MARKER_STYLES.find((m) => m === v);
  if (!style) throw new OptionsError(`DS2API_PROMPT_MARKERS must be one of ${PROMPT_MARKER_STYLES.join(", ")} (got ${JSON.stringify(raw)})`);
  return style;
}

function trustedProxiesFrom(raw: string | undefined): string[] {
  try {
    return parseTrustedProxies(raw);
  } catch (e) {
    if (e instanceof TrustedProxyError) throw new OptionsError(e.message);
    throw e;
  }
}

/** A service URL with one of these schemes; the error never repeats the URL (it may hold a password). */
function urlFrom(name: string, raw: string | undefined, schemes: readonly string[]): string | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new OptionsError(`${name} is not a URL (expected ${schemes[0]}//host:port/…)`);
  }
  if (!schemes.includes(url.protocol)) throw new OptionsError(`${name} must start with ${schemes.map((s) => `${s}//`).join(" or ")} (got ${url.protocol}//…)`);
  return v;
}

function tlsProfileFrom(raw: string | undefined): string | undefined {
  const v = raw?.trim().toLowerCase();
  if (!v) return undefined;
  if (!isTlsProfile(v)) throw new OptionsError(`DS2API_TLS_PROFILE must be one of ${TLS_PROFILES.join(", ")} (got ${JSON.stringify(raw)})`);
  return v;
}

export function resolveOptions(argv: string[], env: Env): ServerOptions {
  const { values, simulate } = parseFlags(argv);
  const configFromFlag = values.configPath;
  const configFromEnv = env.DS2API_CONFIG_PATH?.trim() || undefined;
  const maxBodyMb = intFrom("DS2API_MAX_BODY_MB", env.DS2API_MAX_BODY_MB, 1, 1024) ?? 100;
  const maxSmallBodyMb = intFrom("DS2API_MAX_SMALL_BODY_MB", env.DS2API_MAX_SMALL_BODY_MB, 1, 1024) ?? 4;
  return {
    port: intFrom(values.port ? "--port" : "PORT", values.port ?? env.PORT, 0, 65535) ?? 5001,
    host: (values.host ?? env.HOST)?.trim() || "0.0.0.0",
    dbPath: (values.dbPath ?? env.DS2API_DB_PATH)?.trim() || "./data/ds2api.sqlite",
    configPath: configFromFlag ?? configFromEnv ?? "./config.json",
    configPathExplicit: Boolean(configFromFlag ?? configFromEnv),
    configJson: env.DS2API_CONFIG_JSON?.trim() || undefined,
    adminKey: env.DS2API_ADMIN_KEY?.trim() || undefined,
    deepseekBaseUrl: baseUrlFrom(env.DS2API_DEEPSEEK_BASE_URL),
    tlsProfile: tlsProfileFrom(env.DS2API_TLS_PROFILE),
    volcengine: volcengineFrom(env),
    accountMaxInflight: intFrom("DS2API_ACCOUNT_MAX_INFLIGHT", env.DS2API_ACCOUNT_MAX_INFLIGHT, 1, 256),
    accountMaxQueue: intFrom("DS2API_ACCOUNT_MAX_QUEUE", env.DS2API_ACCOUNT_MAX_QUEUE, 0, 200000),
    globalMaxInflight: intFrom("DS2API_GLOBAL_MAX_INFLIGHT", env.DS2API_GLOBAL_MAX_INFLIGHT, 0, 200000),
    powWorkers: intFrom("DS2API_POW_WORKERS", env.DS2API_POW_WORKERS, 1, 256),
    allowDirectToken: boolFrom(env.DS2API_ALLOW_DIRECT_TOKEN),
    allowPrivateAttachmentUrls: boolFrom(env.DS2API_ALLOW_PRIVATE_ATTACHMENT_URLS),
    ollamaLoopbackOpen: boolFrom(env.DS2API_OLLAMA_LOOPBACK_OPEN),
    jwtSecret: env.DS2API_JWT_SECRET?.trim() || undefined,
    metricsPublic: boolFrom(env.DS2API_METRICS_PUBLIC),
    shutdownTimeoutSeconds: secondsFrom("DS2API_SHUTDOWN_TIMEOUT_SECONDS", env.DS2API_SHUTDOWN_TIMEOUT_SECONDS, 3600) ?? 30,
    turnLimits: {
      upstreamIdleTimeoutSeconds: secondsFrom("DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS", env.DS2API_UPSTREAM_IDLE_TIMEOUT_SECONDS, 86_400),
      turnTimeoutSeconds: secondsFrom("DS2API_TURN_TIMEOUT_SECONDS", env.DS2API_TURN_TIMEOUT_SECONDS, 86_400),
      upstreamHeaderTimeoutSeconds: secondsFrom("DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS", env.DS2API_UPSTREAM_HEADER_TIMEOUT_SECONDS, 3_600),
      maxAccountAttempts: intFrom("DS2API_MAX_ACCOUNT_ATTEMPTS", env.DS2API_MAX_ACCOUNT_ATTEMPTS, 1, 100),
      queueWaitSeconds: secondsFrom("DS2API_QUEUE_WAIT_SECONDS", env.DS2API_QUEUE_WAIT_SECONDS, 86_400),
    },
    logLevel: parseLogLevel(values.logLevel ?? env.LOG_LEVEL),
    maxBodyBytes: maxBodyMb * 1024 * 1024,
    maxSmallBodyBytes: Math.min(maxSmallBodyMb, maxBodyMb) * 1024 * 1024,
    maxPromptChars: intFrom("DS2API_MAX_PROMPT_CHARS", env.DS2API_MAX_PROMPT_CHARS, 1000, 1_000_000_000) ?? 4_000_000,
    // 0 turns the deadline off.
    bodyTimeoutMs: (secondsFrom("DS2API_BODY_TIMEOUT_SECONDS", env.DS2API_BODY_TIMEOUT_SECONDS, 3600) ?? 30) * 1000,
    // Bun accepts 1–255 seconds.
    idleTimeoutSeconds: intFrom("DS2API_IDLE_TIMEOUT_SECONDS", env.DS2API_IDLE_TIMEOUT_SECONDS, 1, 255) ?? 60,
    simulate,
    trustedProxies: trustedProxiesFrom(env.DS2API_TRUSTED_PROXIES),
    secretKey: env.DS2API_SECRET_KEY?.trim() || undefined,
    databaseUrl: urlFrom("DS2API_DATABASE_URL", env.DS2API_DATABASE_URL, ["postgres:", "postgresql:"]),
    redisUrl: urlFrom("DS2API_REDIS_URL", env.DS2API_REDIS_URL, ["redis:", "rediss:", "valkey:", "valkeys:"]),
    redisPrefix: env.DS2API_REDIS_PREFIX?.trim() || "ds2api:",
    instanceId: env.DS2API_INSTANCE_ID?.trim() || `${hostname()}:${process.pid}`,
    leaseTtlSeconds: intFrom("DS2API_CLUSTER_LEASE_TTL_SECONDS", env.DS2API_CLUSTER_LEASE_TTL_SECONDS, 1, 3600) ?? 30,
    dependencyStartTimeoutSeconds: intFrom("DS2API_DEPENDENCY_START_TIMEOUT_SECONDS", env.DS2API_DEPENDENCY_START_TIMEOUT_SECONDS, 0, 3600) ?? 60,
    ondemandApiKeys: (env.ONDEMAND_APIKEYS ?? "").split(",").map((k) => k.trim()).filter(Boolean),
    ondemandApiBase: env.ONDEMAND_API_BASE?.trim().replace(/\/+$/, "") || undefined,
    promptMarkers: promptMarkersFrom(env.DS2API_PROMPT_MARKERS),
  };
}
