/**
 * Volcengine Ark console settings (issue 12 §2; names are a contract): env `VOLCENGINE_API_URL`,
 * `VOLCENGINE_X_WEB_ID` (one id or a comma-separated list), `VOLCENGINE_AUTHORIZATION`; config.json section
 * `"volcengine": {"api_url", "authorization", "max_usage", "daily_reset", "body_style",
 * "web_ids": ["…" | {"web_id", "authorization", "max_usage", "label"}]}`. The pool lives in
 * `store.credentials` (provider "volcengine"), the provider-wide settings under `provider.volcengine.settings`
 * (the authorization sealed by the settings repo). Nothing here talks to the upstream.
 */
import type { StoreRepos } from "../store/store-api.ts";

export const VOLCENGINE = "volcengine";
export const VOLCENGINE_SETTINGS_KEY = "provider.volcengine.settings";
export const DEFAULT_VOLCENGINE_API_URL = "https://ml-platform-api.console.volcengine.com/ark/bff/api/cn-beijing/2024-01-29/Chat";
export const VOLCENGINE_BODY_STYLES = ["console", "openai"] as const;
export const MAX_USAGE_LIMIT = 1_000_000_000;

/** What the environment says (process options). */
export interface VolcengineEnv {
  apiUrl?: string;
  webIds: string[];
  authorization?: string;
}

/** The stored provider-wide settings (snake_case as in config.json). */
export interface VolcengineStoredSettings {
  api_url?: string;
  authorization?: string;
  /** 0 = unlimited. */
  max_usage?: number;
  /** Reset every entry's usage once a day (00:00 Beijing time). */
  daily_reset?: boolean;
  body_style?: (typeof VOLCENGINE_BODY_STYLES)[number];
}

export interface VolcengineWebIdEntry {
  web_id: string;
  authorization?: string;
  max_usage?: number;
  label?: string;
}

export interface VolcengineSection extends VolcengineStoredSettings {
  web_ids?: VolcengineWebIdEntry[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A web id as the console's tools accept it: printable ASCII without spaces, 6–512 characters. */
export function webIdProblem(id: string): string | undefined {
  if (id.length < 6) return "too short to be a web id";
  if (id.length > 512) return "longer than 512 characters";
  if (!/^[\x21-\x7e]+$/.test(id)) return "contains spaces or characters that cannot go in an HTTP header";
  return undefined;
}

/** An http(s) URL, or a problem. */
export function apiUrlProblem(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? undefined : `must use http or https (got ${u.protocol})`;
  } catch {
    return "is not a URL";
  }
}

/** The env part; `problem` names what is wrong. */
export function parseVolcengineEnv(env: Record<string, string | undefined>): { value: VolcengineEnv; problem?: string } {
  const apiUrl = env.VOLCENGINE_API_URL?.trim() || undefined;
  const urlProblem = apiUrl ? apiUrlProblem(apiUrl) : undefined;
  const webIds = [...new Set((env.VOLCENGINE_X_WEB_ID ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
  const bad = webIds.find((id) => webIdProblem(id));
  const value = { apiUrl, webIds, authorization: env.VOLCENGINE_AUTHORIZATION?.trim() || undefined };
  if (urlProblem) return { value, problem: `VOLCENGINE_API_URL ${urlProblem} (got ${JSON.stringify(apiUrl)})` };
  if (bad !== undefined) return { value, problem: `VOLCENGINE_X_WEB_ID: an entry is ${webIdProblem(bad)} (entry ${webIds.indexOf(bad) + 1})` };
  return { value };
}

function maxUsage(v: unknown, path: string, problems: string[]): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_USAGE_LIMIT) {
    problems.push(`${path} must be an integer between 0 (unlimited) and ${MAX_USAGE_LIMIT}`);
    return undefined;
  }
  return v;
}

function optText(v: unknown, path: string, problems: string[]): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    problems.push(`${path} must be a string`);
    return undefined;
  }
  return v.trim() || undefined;
}

/** Validate the config.json `volcengine` section. */
export function parseVolcengineSection(raw: unknown, problems: string[]): VolcengineSection | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) {
    problems.push("volcengine must be an object");
    return undefined;
  }
  const out: VolcengineSection = {};
  const apiUrl = optText(raw.api_url, "volcengine.api_url", problems);
  if (apiUrl) {
    const p = apiUrlProblem(apiUrl);
    if (p) problems.push(`volcengine.api_url ${p}`);
    else out.api_url = apiUrl;
  }
  out.authorization = optText(raw.authorization, "volcengine.authorization", problems);
  out.max_usage = maxUsage(raw.max_usage, "volcengine.max_usage", problems);
  if (raw.daily_reset !== undefined && raw.daily_reset !== null) {
    if (typeof raw.daily_reset !== "boolean") problems.push("volcengine.daily_reset must be true or false");
    else out.daily_reset = raw.daily_reset;
  }
  if (raw.body_style !== undefined && raw.body_style !== null && raw.body_style !== "") {
    if (!(VOLCENGINE_BODY_STYLES as readonly unknown[]).includes(raw.body_style)) problems.push(`volcengine.body_style must be one of ${VOLCENGINE_BODY_STYLES.join(", ")}`);
    else out.body_style = raw.body_style as VolcengineSection["body_style"];
  }
  if (raw.web_ids !== undefined && raw.web_ids !== null) {
    if (!Array.isArray(raw.web_ids)) problems.push("volcengine.web_ids must be an array of web ids or {web_id, authorization, max_usage} objects");
    else {
      const seen = new Set<string>();
      out.web_ids = [];
      raw.web_ids.forEach((item, i) => {
        const p = `volcengine.web_ids[${i}]`;
        const entry = typeof item === "string" ? { web_id: item } : item;
        if (!isObj(entry)) return problems.push(`${p} must be a string or an object with "web_id"`);
        const id = typeof entry.web_id === "string" ? entry.web_id.trim() : typeof entry.web_id === "number" ? String(entry.web_id) : "";
        if (!id) return problems.push(`${p}.web_id is required`);
        const bad = webIdProblem(id);
        if (bad) return problems.push(`${p}.web_id is ${bad}`);
        if (seen.has(id)) return;
        seen.add(id);
        out.web_ids!.push({
          web_id: id,
          authorization: optText(entry.authorization, `${p}.authorization`, problems),
          max_usage: maxUsage(entry.max_usage, `${p}.max_usage`, problems),
          label: optText(entry.label, `${p}.label`, problems),
        });
      });
    }
  }
  return out;
}

/** Stored provider-wide settings (empty object when none). */
export async function readVolcengineSettings(store: Pick<StoreRepos, "settings">): Promise<VolcengineStoredSettings> {
  return (await store.settings.get<VolcengineStoredSettings>(VOLCENGINE_SETTINGS_KEY)) ?? {};
}

/**
 * Import the section through `tx` (a transaction's repositories): settings overlaid, web ids upserted (same id =
 * same entry). Replace empties the pool first.
 */
export async function importVolcengineSection(tx: Pick<StoreRepos, "settings" | "credentials">, section: VolcengineSection | undefined, replace: boolean): Promise<{ added: number; updated: number }> {
  const result = { added: 0, updated: 0 };
  if (replace) {
    for (const c of await tx.credentials.list(VOLCENGINE)) await tx.credentials.remove(VOLCENGINE, c.id);
    await tx.settings.delete(VOLCENGINE_SETTINGS_KEY);
  }
  if (!section) return result;
  const { web_ids, ...settings } = section;
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  if (Object.keys(defined).length) await tx.settings.set(VOLCENGINE_SETTINGS_KEY, { ...(await readVolcengineSettings(tx)), ...defined });
  for (const w of web_ids ?? []) {
    const { created } = await tx.credentials.upsert(VOLCENGINE, { secret: w.web_id, auth: w.authorization, maxUsage: w.max_usage, label: w.label });
    if (created) result.added++;
    else result.updated++;
  }
  return result;
}

/** The stored pool and settings as a section; undefined when there is nothing Volcengine-related stored. */
export async function readVolcengineSection(store: Pick<StoreRepos, "settings" | "credentials">): Promise<VolcengineSection | undefined> {
  const settings = await readVolcengineSettings(store);
  const entries = await store.credentials.list(VOLCENGINE);
  if (!entries.length && !Object.keys(settings).length) return undefined;
  return {
    ...settings,
    web_ids: entries.map((c) => ({ web_id: c.secret, authorization: c.auth, max_usage: c.maxUsage, label: c.label })),
  };
}

/**
 * The section for an export: web ids and authorizations are credentials, so they go out only with
 * include_secrets (like account passwords); the settings always do, so a file round-trips.
 */
export function buildVolcengineSection(section: VolcengineSection, opts: { includeSecrets: boolean }): Record<string, unknown> {
  const { web_ids, authorization, ...rest } = section;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  if (!opts.includeSecrets) return out;
  if (authorization) out.authorization = authorization;
  out.web_ids = (web_ids ?? []).map((w) =>
    w.authorization === undefined && w.max_usage === undefined && w.label === undefined
      ? w.web_id
      : { web_id: w.web_id, ...(w.authorization ? { authorization: w.authorization } : {}), ...(w.max_usage !== undefined ? { max_usage: w.max_usage } : {}), ...(w.label ? { label: w.label } : {}) },
  );
  return out;
}
