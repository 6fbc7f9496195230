/**
 * Bulk import of web ids (other-providers.md §A.4): an existing `webids.json` in any layout the original
 * might have used — an array of strings; an array of objects (id from `webId` / `webid` / `web_id` / `id` /
 * `value` / `xWebId` / `x_web_id`, count from `usageCount` / `usage` / `count` / `used`, optional
 * `authorization`, `maxUsage` / `max_usage`, `label` / `name`); an object of id → count or id → object; any of
 * these inside a wrapper (`webids`, `webIds`, `web_ids`, `data`, `items`) with an optional `maxUsage` that
 * becomes the per-entry cap of the entries it brings — or plain text, one id per line (`#` comments allowed).
 * Everything that is not taken is reported, with the secret masked.
 */
import { webIdProblem } from "../../../config/volcengine-config.ts";
import { credentialPreview } from "../../../store/credentials-repo.ts";

export interface ParsedWebId {
  webId: string;
  authorization?: string;
  maxUsage?: number;
  usage?: number;
  label?: string;
}

export interface ParsedImport {
  entries: ParsedWebId[];
  skipped: { entry: string; reason: string }[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const ID_KEYS = ["webId", "webid", "web_id", "WebId", "id", "value", "xWebId", "x_web_id", "x-web-id"];
const COUNT_KEYS = ["usageCount", "usage_count", "usage", "count", "used"];
const MAX_KEYS = ["maxUsage", "max_usage", "limit"];
const WRAPPERS = ["webids", "webIds", "web_ids", "WebIds", "data", "items"];

function first(o: Obj, keys: readonly string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function count(v: unknown): number | undefined {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : undefined;
}

function idText(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

/** A short, masked description of an entry for the skipped list. */
function describe(v: unknown): string {
  if (typeof v === "string") return v.trim() ? credentialPreview(v.trim()) : "(empty)";
  if (isObj(v)) {
    const id = idText(first(v, ID_KEYS));
    return id ? credentialPreview(id) : `{${Object.keys(v).slice(0, 4).join(", ")}}`;
  }
  return JSON.stringify(v)?.slice(0, 20) ?? String(v);
}

class Collector {
  readonly entries: ParsedWebId[] = [];
  readonly skipped: { entry: string; reason: string }[] = [];
  private readonly seen = new Set<string>();

  add(raw: unknown, id: string | undefined, extra: Omit<ParsedWebId, "webId">): void {
    if (!id) return void this.skipped.push({ entry: describe(raw), reason: "no web id found in this entry" });
    const problem = webIdProblem(id);
    if (problem) return void this.skipped.push({ entry: describe(id), reason: problem });
    if (this.seen.has(id)) return void this.skipped.push({ entry: describe(id), reason: "duplicate in this import" });
    this.seen.add(id);
    this.entries.push({ webId: id, ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)) });
  }

  object(o: Obj, wrapperMax: number | undefined, fallbackId?: string): void {
    const id = idText(first(o, ID_KEYS)) ?? fallbackId;
    const auth = first(o, ["authorization", "Authorization", "auth"]);
    const label = first(o, ["label", "name", "remark"]);
    this.add(o, id, {
      usage: count(first(o, COUNT_KEYS)),
      maxUsage: count(first(o, MAX_KEYS)) ?? wrapperMax,
      authorization: typeof auth === "string" && auth.trim() ? auth.trim() : undefined,
      label: typeof label === "string" && label.trim() ? label.trim() : undefined,
    });
  }

  list(items: unknown[], wrapperMax: number | undefined): void {
    for (const item of items) {
      if (typeof item === "string" || typeof item === "number") this.add(item, idText(item), { maxUsage: wrapperMax });
      else if (isObj(item)) this.object(item, wrapperMax);
      else this.skipped.push({ entry: describe(item), reason: "not a web id or an object with one" });
    }
  }

  /** `{ "<id>": <count> | {…} }`. */
  map(o: Obj, wrapperMax: number | undefined): void {
    for (const [key, value] of Object.entries(o)) {
      if (isObj(value)) this.object(value, wrapperMax, key.trim());
      else if (value === null || count(value) !== undefined) this.add(key, key.trim(), { usage: count(value), maxUsage: wrapperMax });
      else this.skipped.push({ entry: describe(key), reason: "its value is neither a usage count nor an object" });
    }
  }
}

export function parseWebIdImport(text: string): ParsedImport {
  const c = new Collector();
  const trimmed = text.trim();
  if (!trimmed) return { entries: [], skipped: [{ entry: "(empty)", reason: "nothing to import" }] };
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      return { entries: [], skipped: [{ entry: "(document)", reason: `not valid JSON: ${(e as Error).message.slice(0, 120)}` }] };
    }
    if (Array.isArray(doc)) c.list(doc, undefined);
    else if (isObj(doc)) {
      const wrapper = WRAPPERS.find((k) => doc[k] !== undefined);
      if (wrapper) {
        const max = count(first(doc, MAX_KEYS));
        const inner = doc[wrapper];
        if (Array.isArray(inner)) c.list(inner, max);
        else if (isObj(inner)) c.map(inner, max);
        else c.skipped.push({ entry: wrapper, reason: "neither a list nor an object of web ids" });
      } else if (first(doc, ID_KEYS) !== undefined) c.object(doc, undefined);
      else c.map(doc, undefined);
    }
    return { entries: c.entries, skipped: c.skipped };
  }
  for (const raw of trimmed.split(/[\r\n,]+/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    c.add(line, line, {});
  }
  return { entries: c.entries, skipped: c.skipped };
}
