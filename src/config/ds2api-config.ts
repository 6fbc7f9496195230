/**
 * The Go ds2api `config.json` format (api-surface.md §13): parse + validate into a normalised
 * document, and build the same format back for export. Unknown keys are kept verbatim; legacy
 * keys the Go project ignores are kept too and reported as warnings. Nothing here touches storage.
 */
import { deviceIdProblem, SHARED_DEVICE_ID } from "../store/device-id.ts";
import { canonicalMobile } from "./mobile.ts";
import { ONDEMAND_SECTION, parseOnDemandSection } from "./ondemand-section.ts";
import { AUTO_DELETE_MODES, EMBEDDING_PROVIDERS, RUNTIME_BOUNDS, type RuntimeSettings } from "./runtime-settings.ts";
import { humanPacingProblems } from "./human-pacing.ts";
import { buildVolcengineSection, parseVolcengineSection, type VolcengineSection } from "./volcengine-config.ts";
import { isTlsProfile, TLS_PROFILES } from "./tls-profile-names.ts";

export interface ConfigApiKey {
  key: string;
  name?: string;
  remark?: string;
}

export interface ConfigAccount {
  /** email, else canonical mobile. */
  identifier: string;
  email?: string;
  mobile?: string;
  password?: string;
  name?: string;
  remark?: string;
  proxy_id?: string;
  /** The login device id of this account (an identifier, not a secret: exported). Absent = keep / generate one. */
  device_id?: string;
  /** Present in legacy files; never exported. */
  token?: string;
  /** Unknown per-account fields, kept verbatim. */
  extra?: Record<string, unknown>;
}

/**
 * Proxy kinds an account may use. The Go ds2api takes socks5/socks5h only; http and https (HTTP CONNECT
 * proxies, plain or over TLS) are accepted here too.
 */
export const PROXY_TYPES = ["http", "https", "socks5", "socks5h"] as const;
export type ProxyType = (typeof PROXY_TYPES)[number];

export interface ConfigProxy {
  id: string;
  name: string;
  type: ProxyType;
  host: string;
  port: number;
  username?: string;
  password?: string;
}

/** A normalised config document. Sections that are absent stay undefined (a merge leaves them alone). */
export interface Ds2ApiConfig {
  apiKeys?: ConfigApiKey[];
  accounts?: ConfigAccount[];
  proxies?: ConfigProxy[];
  modelAliases?: Record<string, string>;
  admin?: { password_hash?: string; jwt_expire_hours?: number; jwt_valid_after_unix?: number };
  runtime?: Partial<RuntimeSettings>;
  /** The Volcengine console pool and settings (`volcengine` section). */
  volcengine?: VolcengineSection;
  /** Other known policy sections, validated and kept as objects. */
  sections: Record<string, Record<string, unknown>>;
  /** Keys this build does not interpret (kept verbatim for export). */
  extra: Record<string, unknown>;
  /** OnDemand API keys from the `ondemand` section (its other fields are `sections.ondemand`). */
  ondemandKeys?: string[];
}

export interface ParsedConfig {
  config: Ds2ApiConfig;
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid config: ${problems.join("; ")}`);
  }
}

/** Known policy sections stored as-is after validation. */
const POLICY_SECTIONS = ["responses", "embeddings", "auto_delete", "current_input_file", "thinking_injection", "vercel", "client_identity", "chat_history", "dev_capture", "prompt", "pacing", "upstream"] as const;
/** Keys the Go project reads but ignores; kept for export, reported once. */
const LEGACY_IGNORED = ["claude_mapping", "claude_model_mapping", "compat", "toolcall", "history_split"];
const HANDLED = new Set(["keys", "api_keys", "accounts", "proxies", "model_aliases", "admin", "runtime", ONDEMAND_SECTION, "volcengine", ...POLICY_SECTIONS]);

const ACCOUNT_FIELDS = new Set(["email", "mobile", "password", "name", "remark", "proxy_id", "device_id", "token", "test_status"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optString(v: unknown, path: string, problems: string[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number") return String(v);
  if (typeof v !== "string") {
    problems.push(`${path} must be a string`);
    return undefined;
  }
  const t = v.trim();
  return t === "" ? undefined : t;
}

/**
 * Decode DS2API_CONFIG_JSON-style text: raw JSON, or base64 (standard or URL alphabet, padded or not),
 * with an optional `base64:` prefix and surrounding quotes.
 */
export function decodeConfigText(text: string): unknown {
  let s = text.trim();
  if ((s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"') && !s.startsWith('"{'))) {
    s = s.slice(1, -1).trim();
  }
  if (s.startsWith("{")) return parseJson(s);
  if (s.toLowerCase().startsWith("base64:")) s = s.slice(7).trim();
  if (!/^[A-Za-z0-9+/_=\-\s]+$/.test(s)) throw new ConfigError(["config is neither JSON nor base64-encoded JSON"]);
  const decoded = Buffer.from(s.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8");
  if (!decoded.trim().startsWith("{")) throw new ConfigError(["base64 config does not decode to a JSON object"]);
  return parseJson(decoded);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`config is not valid JSON (${(e as Error).message})`]);
  }
}

function parseApiKeys(raw: Record<string, unknown>, problems: string[]): ConfigApiKey[] | undefined {
  const out = new Map<string, ConfigApiKey>();
  const apiKeys = raw.api_keys;
  if (apiKeys !== undefined && apiKeys !== null) {
    if (!Array.isArray(apiKeys)) problems.push("api_keys must be an array");
    else
      apiKeys.forEach((item, i) => {
        const entry = typeof item === "string" ? { key: item } : item;
        if (!isObject(entry)) return problems.push(`api_keys[${i}] must be an object with "key"`);
        const key = optString(entry.key, `api_keys[${i}].key`, problems);
        if (!key) return problems.push(`api_keys[${i}].key must be a non-empty string`);
        if (out.has(key)) return;
        out.set(key, {
          key,
          name: optString(entry.name, `api_keys[${i}].name`, problems),
          remark: optString(entry.remark, `api_keys[${i}].remark`, problems),
        });
      });
  }
  // `api_keys` wins when non-empty; otherwise the legacy `keys` list is used.
  if (out.size === 0 && raw.keys !== undefined && raw.keys !== null) {
    if (!Array.isArray(raw.keys)) problems.push("keys must be an array of strings");
    else
      raw.keys.forEach((k, i) => {
        const key = optString(k, `keys[${i}]`, problems);
        if (key && !out.has(key)) out.set(key, { key });
      });
  }
  if (raw.api_keys === undefined && raw.keys === undefined) return undefined;
  return [...out.values()];
}

/** `accounts[].device_id`: absent or blank = none given (the account keeps or gets its own); else it must be usable. */
function parseDeviceId(v: unknown, path: string, problems: string[], warnings: string[]): string | undefined {
  const raw = optString(v, path, problems)?.trim();
  if (!raw) return undefined;
  if (raw === SHARED_DEVICE_ID) {
    warnings.push(`${path} is the shared constant ${JSON.stringify(SHARED_DEVICE_ID)}, which is never sent: the account keeps (or gets) its own device id`);
    return undefined;
  }
  const problem = deviceIdProblem(raw);
  if (problem) {
    problems.push(`${path} ${problem}`);
    return undefined;
  }
  return raw;
}

function parseAccounts(raw: unknown, problems: string[], warnings: string[]): ConfigAccount[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    problems.push("accounts must be an array");
    return undefined;
  }
  const out = new Map<string, ConfigAccount>();
  raw.forEach((item, i) => {
    const p = `accounts[${i}]`;
    if (!isObject(item)) return problems.push(`${p} must be an object`);
    const email = optString(item.email, `${p}.email`, problems)?.toLowerCase();
    const mobileRaw = optString(item.mobile, `${p}.mobile`, problems);
    const mobile = mobileRaw ? canonicalMobile(mobileRaw) || undefined : undefined;
    if (email !== undefined && !email.includes("@")) problems.push(`${p}.email ${JSON.stringify(email)} is not an email address`);
    const identifier = email ?? mobile;
    if (!identifier) {
      warnings.push(`${p} has neither email nor mobile and was skipped`);
      return;
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) if (!ACCOUNT_FIELDS.has(k)) extra[k] = v;
    const password = typeof item.password === "string" ? item.password.trim() || undefined : optString(item.password, `${p}.password`, problems);
    const account: ConfigAccount = {
      identifier,
      email,
      mobile,
      password,
      name: optString(item.name, `${p}.name`, problems),
      remark: optString(item.remark, `${p}.remark`, problems),
      proxy_id: optString(item.proxy_id, `${p}.proxy_id`, problems),
      device_id: parseDeviceId(item.device_id, `${p}.device_id`, problems, warnings),
      token: optString(item.token, `${p}.token`, problems),
      extra: Object.keys(extra).length ? extra : undefined,
    };
    if (out.has(identifier)) warnings.push(`${p} duplicates account ${identifier}; the later entry wins`);
    out.set(identifier, account);
  });
  return [...out.values()];
}

/**
 * Validate one proxy entry (config file or admin API): type, host, port 1-65535, optional id/name/username/password.
 * Problems are pushed with `path` as prefix; undefined is returned when the entry is unusable.
 */
export function parseProxyEntry(item: Record<string, unknown>, path: string, problems: string[]): ConfigProxy | undefined {
  const before = problems.length;
  const type = String(item.type ?? "").trim().toLowerCase();
  if (!(PROXY_TYPES as readonly string[]).includes(type)) problems.push(`${path}.type must be one of ${PROXY_TYPES.join(", ")}`);
  const host = optString(item.host, `${path}.host`, problems);
  if (!host) problems.push(`${path}.host is required`);
  else if (/[\s/@]/.test(host)) problems.push(`${path}.host must be a bare host name or IP address`);
  const port = typeof item.port === "string" && item.port.trim() !== "" ? Number(item.port) : item.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${path}.port must be an integer 1-65535`);
  const username = optString(item.username, `${path}.username`, problems);
  const id = optString(item.id, `${path}.id`, problems);
  const name = optString(item.name, `${path}.name`, problems);
  if (item.password !== undefined && item.password !== null && typeof item.password !== "string") problems.push(`${path}.password must be a string`);
  if (problems.length > before || !host || typeof port !== "number") return undefined;
  const proxyType = type as ProxyType;
  return {
    id: id ?? defaultProxyId(proxyType, host, port, username ?? ""),
    name: name ?? `${host}:${port}`,
    type: proxyType,
    host,
    port,
    username,
    password: typeof item.password === "string" && item.password !== "" ? item.password : undefined,
  };
}

function parseProxies(raw: unknown, problems: string[]): ConfigProxy[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    problems.push("proxies must be an array");
    return undefined;
  }
  const ids = new Set<string>();
  const out: ConfigProxy[] = [];
  raw.forEach((item, i) => {
    const p = `proxies[${i}]`;
    if (!isObject(item)) return problems.push(`${p} must be an object`);
    const proxy = parseProxyEntry(item, p, problems);
    if (!proxy) return;
    if (ids.has(proxy.id)) return problems.push(`${p}.id ${JSON.stringify(proxy.id)} is not unique`);
    ids.add(proxy.id);
    out.push(proxy);
  });
  return out;
}

export function defaultProxyId(type: string, host: string, port: number, username: string): string {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(`${type}|${host}|${port}|${username}`);
  return `proxy_${hasher.digest("hex").slice(0, 12)}`;
}

function parseAliases(raw: unknown, problems: string[]): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    problems.push("model_aliases must be an object of alias → model id");
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string" || !v.trim()) {
      problems.push(`model_aliases.${k} must be a non-empty string`);
      continue;
    }
    out[k.trim().toLowerCase()] = v.trim().toLowerCase();
  }
  return out;
}

function boundedInt(v: unknown, path: string, [min, max]: [number, number], problems: string[]): number | undefined {
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    problems.push(`${path} must be an integer between ${min} and ${max}`);
    return undefined;
  }
  return v;
}

function parseRuntime(raw: unknown, problems: string[]): Partial<RuntimeSettings> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    problems.push("runtime must be an object");
    return undefined;
  }
  const out: Partial<RuntimeSettings> = {};
  for (const key of Object.keys(RUNTIME_BOUNDS) as (keyof RuntimeSettings)[]) {
    const v = boundedInt(raw[key], `runtime.${key}`, RUNTIME_BOUNDS[key], problems);
    if (v !== undefined) out[key] = v;
  }
  if (out.global_max_inflight !== undefined && out.account_max_inflight !== undefined && out.global_max_inflight < out.account_max_inflight) {
    problems.push("runtime.global_max_inflight must be ≥ runtime.account_max_inflight");
  }
  return out;
}

function parseAdmin(raw: unknown, problems: string[]): Ds2ApiConfig["admin"] {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    problems.push("admin must be an object");
    return undefined;
  }
  return {
    password_hash: optString(raw.password_hash, "admin.password_hash", problems),
    jwt_expire_hours: boundedInt(raw.jwt_expire_hours, "admin.jwt_expire_hours", [1, 720], problems),
    jwt_valid_after_unix: boundedInt(raw.jwt_valid_after_unix, "admin.jwt_valid_after_unix", [0, 1e11], problems),
  };
}

function validateSection(name: string, value: Record<string, unknown>, problems: string[]): void {
  switch (name) {
    case "responses":
      boundedInt(value.store_ttl_seconds, "responses.store_ttl_seconds", [30, 86400], problems);
      break;
    case "embeddings":
      if (value.provider !== undefined && value.provider !== "" && !(EMBEDDING_PROVIDERS as readonly unknown[]).includes(value.provider)) {
        problems.push(`embeddings.provider must be one of ${EMBEDDING_PROVIDERS.join(", ")}`);
      }
      break;
    case "auto_delete":
      if (value.mode !== undefined && value.mode !== "" && !(AUTO_DELETE_MODES as readonly unknown[]).includes(value.mode)) {
        problems.push(`auto_delete.mode must be one of ${AUTO_DELETE_MODES.join(", ")}`);
      }
      problems.push(...humanPacingProblems(name, value));
      break;
    case "prompt":
    case "pacing":
      problems.push(...humanPacingProblems(name, value));
      break;
    case "current_input_file":
      boundedInt(value.min_chars, "current_input_file.min_chars", [1, 1e8], problems);
      boundedInt(value.prompt_chars, "current_input_file.prompt_chars", [1000, 1e8], problems);
      break;
    case "chat_history":
      boundedInt(value.limit, "chat_history.limit", [0, 10_000], problems);
      break;
    case "dev_capture":
      if (value.enabled !== undefined && typeof value.enabled !== "boolean") problems.push("dev_capture.enabled must be a boolean");
      if (value.sample_root !== undefined && typeof value.sample_root !== "string") problems.push("dev_capture.sample_root must be a string");
      break;
    case "upstream":
      if (value.tls_profile !== undefined && value.tls_profile !== "" && !isTlsProfile(value.tls_profile)) {
        problems.push(`upstream.tls_profile must be one of ${TLS_PROFILES.join(", ")}`);
      }
      break;
  }
}

/** Parse a config document (object, JSON text or base64 text). Throws ConfigError listing every problem. */
export function parseDs2ApiConfig(input: unknown): ParsedConfig {
  const raw = typeof input === "string" ? decodeConfigText(input) : input;
  if (!isObject(raw)) throw new ConfigError(["config must be a JSON object"]);
  const problems: string[] = [];
  const warnings: string[] = [];
  const config: Ds2ApiConfig = {
    apiKeys: parseApiKeys(raw, problems),
    accounts: parseAccounts(raw.accounts, problems, warnings),
    proxies: parseProxies(raw.proxies, problems),
    modelAliases: parseAliases(raw.model_aliases, problems),
    admin: parseAdmin(raw.admin, problems),
    runtime: parseRuntime(raw.runtime, problems),
    volcengine: parseVolcengineSection(raw.volcengine, problems),
    sections: {},
    extra: {},
  };
  for (const name of POLICY_SECTIONS) {
    const value = raw[name];
    if (value === undefined || value === null) continue;
    if (!isObject(value)) {
      problems.push(`${name} must be an object`);
      continue;
    }
    validateSection(name, value, problems);
    config.sections[name] = value;
  }
  const ondemand = parseOnDemandSection(raw[ONDEMAND_SECTION], problems);
  if (ondemand) {
    config.sections[ONDEMAND_SECTION] = ondemand.section;
    config.ondemandKeys = ondemand.keys;
    if (ondemand.maskedSkipped) warnings.push(`ondemand.api_keys: ${ondemand.maskedSkipped} masked key(s) (from an export) skipped; keys already stored are kept`);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (HANDLED.has(k)) continue;
    if (k === "_vercel_sync_hash" || k === "_vercel_sync_time" || k === EXPORT_NOTE_KEY) continue;
    if (LEGACY_IGNORED.includes(k)) warnings.push(`config key "${k}" is a legacy ds2api setting that is not used; it is kept for export`);
    config.extra[k] = v;
  }
  if (config.accounts) {
    const ids = new Set((config.proxies ?? []).map((p) => p.id));
    for (const a of config.accounts) {
      if (a.proxy_id && !ids.has(a.proxy_id)) problems.push(`account ${a.identifier} refers to unknown proxy_id ${JSON.stringify(a.proxy_id)}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return { config, warnings };
}

/** A note an export carries in the document itself (ignored on import; the Go ds2api ignores unknown keys). */
export const EXPORT_NOTE_KEY = "_ds2api_note";

/**
 * What an export from this build can hold, for the note in the document. API keys are stored only as
 * hashes, so no export carries them; account and proxy passwords only with include_secrets; tokens never;
 * a console password only as its hash (argon2id, which the Go ds2api does not read).
 */
export function exportNote(opts: { includeSecrets: boolean; omittedKeys: number }): string {
  const parts = [];
  if (opts.omittedKeys) parts.push(`${opts.omittedKeys} API key(s) are not included: ds2api stores only their hashes; add them again (keys / api_keys) where you import this`);
  parts.push(
    opts.includeSecrets
      ? "account and proxy passwords (and Volcengine web ids / authorizations) are included in clear: keep this file secret"
      : "account and proxy passwords (and Volcengine web ids / authorizations) are not included (export with include_secrets=1 to move them)",
  );
  parts.push("DeepSeek tokens are never exported");
  if (opts.includeSecrets) parts.push("admin.password_hash, when present, is an argon2id (or legacy sha256:) hash; the Go ds2api cannot check argon2id, so set DS2API_ADMIN_KEY there");
  return parts.join("; ");
}

/** Build a ds2api-format object. Account tokens are never included; passwords only when asked; API keys only when the document has them. */
export function buildDs2ApiConfig(doc: Ds2ApiConfig, opts: { includeSecrets: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = doc.apiKeys ?? [];
  if (keys.length) {
    out.keys = keys.map((k) => k.key);
    out.api_keys = keys.map((k) => ({ key: k.key, ...(k.name ? { name: k.name } : {}), ...(k.remark ? { remark: k.remark } : {}) }));
  }
  out.accounts = (doc.accounts ?? []).map((a) => ({
    ...(a.extra ?? {}),
    ...(a.email ? { email: a.email } : {}),
    ...(a.mobile ? { mobile: a.mobile } : {}),
    ...(opts.includeSecrets && a.password ? { password: a.password } : {}),
    ...(a.name ? { name: a.name } : {}),
    ...(a.remark ? { remark: a.remark } : {}),
    ...(a.proxy_id ? { proxy_id: a.proxy_id } : {}),
    ...(a.device_id ? { device_id: a.device_id } : {}),
  }));
  if (doc.proxies?.length) {
    out.proxies = doc.proxies.map((p) => ({
      id: p.id,
      name: p.name,
      type: p.type,
      host: p.host,
      port: p.port,
      ...(p.username ? { username: p.username } : {}),
      ...(opts.includeSecrets && p.password ? { password: p.password } : {}),
    }));
  }
  out.model_aliases = doc.modelAliases ?? {};
  if (doc.admin) {
    const admin = Object.fromEntries(Object.entries(doc.admin).filter(([k, v]) => v !== undefined && (opts.includeSecrets || k !== "password_hash")));
    if (Object.keys(admin).length) out.admin = admin;
  }
  if (doc.runtime && Object.keys(doc.runtime).length) out.runtime = doc.runtime;
  if (doc.volcengine) out.volcengine = buildVolcengineSection(doc.volcengine, opts);
  for (const [name, value] of Object.entries(doc.sections)) {
    if (name === "vercel" && !opts.includeSecrets) {
      const { token: _token, ...rest } = value;
      out[name] = rest;
    } else out[name] = value;
  }
  for (const [k, v] of Object.entries(doc.extra)) if (!(k in out)) out[k] = v;
  return out;
}
