/**
 * Tolerant JSON for argument values (toolcalls.md §2.7): invalid-backslash repair, unquoted keys,
 * `"k": {…}, {…}` object runs wrapped into arrays, and path strings whose escapes were decoded into
 * control characters put back.
 */

export type JsonResult = { ok: true; value: unknown } | { ok: false };

function tryParse(s: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

/** Double every backslash that does not start a valid JSON escape (`C:\Users` → `C:\\Users`). */
export function repairBackslashes(s: string): string {
  if (s.indexOf("\\") < 0) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = s[i + 1];
    if (d !== undefined && '"\\/bfnrt'.includes(d)) {
      out += c + d;
      i++;
    } else if (d === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      out += s.slice(i, i + 6);
      i += 5;
    } else out += "\\\\";
  }
  return out;
}

/** Index just past the string literal starting at the quote at i (or s.length). */
function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === "\\") j++;
    else if (s[j] === '"') return j + 1;
  }
  return s.length;
}

/** Index just past the `{…}` starting at i, string-aware, or -1. */
function skipObject(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j];
    if (c === '"') j = skipString(s, j) - 1;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return j + 1;
  }
  return -1;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && /\s/.test(s[i]!)) i++;
  return i;
}

/** Quote bare identifier keys and wrap `: {…}, {…}` runs in brackets. */
export function looseRepair(s: string): string {
  const inserts: Array<[number, string]> = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      i = skipString(s, i) - 1;
      continue;
    }
    if (c === "{" || c === ",") {
      const k = skipWs(s, i + 1);
      const m = /^[A-Za-z_$][\w$]*/.exec(s.slice(k, k + 200));
      if (m && s[skipWs(s, k + m[0].length)] === ":") {
        inserts.push([k, '"'], [k + m[0].length, '"']);
      }
    } else if (c === ":") {
      const k = skipWs(s, i + 1);
      if (s[k] !== "{") continue;
      let end = skipObject(s, k);
      let count = 1;
      while (end > 0) {
        const comma = skipWs(s, end);
        if (s[comma] !== ",") break;
        const next = skipWs(s, comma + 1);
        if (s[next] !== "{") break;
        const e2 = skipObject(s, next);
        if (e2 < 0) break;
        end = e2;
        count++;
      }
      if (count > 1) inserts.push([k, "["], [end, "]"]);
    }
  }
  if (!inserts.length) return s;
  inserts.sort((a, b) => a[0] - b[0]);
  let out = "";
  let last = 0;
  for (const [at, text] of inserts) {
    out += s.slice(last, at) + text;
    last = at;
  }
  return out + s.slice(last);
}

const CONTROL_ESCAPES: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f" };

/** Strings under keys naming a path or file get decoded control characters re-escaped. */
export function restorePathEscapes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(restorePathEscapes);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v === "string" && /path|file/i.test(key) && /[\x00-\x1f]/.test(v)) {
      obj[key] = v.replace(/[\x00-\x1f]/g, (c) => CONTROL_ESCAPES[c] ?? "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
    } else if (v !== null && typeof v === "object") obj[key] = restorePathEscapes(v);
  }
  return obj;
}

/** Parse JSON with the repair ladder: plain, backslash repair, loose repair. */
export function parseJsonLoose(s: string): JsonResult {
  let r = tryParse(s);
  if (!r.ok) {
    const fixed = repairBackslashes(s);
    r = tryParse(fixed);
    if (!r.ok) r = tryParse(looseRepair(fixed));
  }
  if (r.ok && r.value !== null && typeof r.value === "object") return { ok: true, value: restorePathEscapes(r.value) };
  return r;
}

/** `{…}, {…}` (two or more comma-separated top-level JSON values) → an array; otherwise undefined. */
export function parseLooseList(s: string): unknown[] | undefined {
  const t = s.trim();
  if (!(t.startsWith("{") || t.startsWith("[")) || t.indexOf(",") < 0) return undefined;
  const r = parseJsonLoose("[" + t + "]");
  if (r.ok && Array.isArray(r.value) && r.value.length >= 2) return r.value;
  return undefined;
}
