/**
 * Coercing decoded arguments to the declared JSON Schema (toolcalls.md §2.8, with the §6.2.8 gaps
 * closed): strings ↔ numbers/booleans/null, JSON-in-string → objects/arrays, a lone value → a
 * one-element array, `anyOf`/`oneOf`, local `$ref`, and Gemini's upper-case type names.
 */
import type { JSONSchema } from "./types.ts";
import { parseJsonLoose, parseLooseList } from "./json-repair.ts";

export type SchemaKind = "string" | "number" | "integer" | "boolean" | "null" | "object" | "array";

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Follow a local `$ref` (`#/…`) against the root, a few hops at most. */
export function resolveSchema(schema: unknown, root: unknown): JSONSchema | undefined {
  let s = schema;
  for (let hops = 0; hops < 8 && isObj(s) && typeof s.$ref === "string"; hops++) {
    const ref = s.$ref as string;
    if (!ref.startsWith("#")) return undefined;
    let cur: unknown = root;
    for (const raw of ref.slice(1).split("/").filter(Boolean)) {
      const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      cur = isObj(cur) ? cur[key] : undefined;
    }
    s = cur;
  }
  return isObj(s) ? s : undefined;
}

function jsonType(v: unknown): SchemaKind {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  return "object";
}

/** The types a schema admits, in declared order, or undefined when it does not say. */
export function schemaTypes(s: JSONSchema | undefined): SchemaKind[] | undefined {
  if (!s) return undefined;
  const t = s.type;
  if (typeof t === "string") return [t.toLowerCase() as SchemaKind];
  if (Array.isArray(t) && t.length) return t.filter((x) => typeof x === "string").map((x) => (x as string).toLowerCase() as SchemaKind);
  if ("const" in s) return [jsonType(s.const) === "integer" ? "number" : jsonType(s.const)];
  if (Array.isArray(s.enum) && s.enum.length) {
    const kinds = [...new Set(s.enum.map((v) => (jsonType(v) === "integer" ? "number" : jsonType(v))))];
    return kinds as SchemaKind[];
  }
  if (isObj(s.properties) || "additionalProperties" in s) return ["object"];
  if ("items" in s || "prefixItems" in s) return ["array"];
  return undefined;
}

/** The single non-null kind a schema asks for, or undefined when absent or ambiguous. */
export function schemaKind(schema: unknown, root: unknown): SchemaKind | undefined {
  const s = resolveSchema(schema, root);
  if (!s) return undefined;
  const branches = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(branches)) {
    const kinds = new Set(branches.map((b) => schemaKind(b, root)).filter((k) => k && k !== "null"));
    return kinds.size === 1 ? [...kinds][0] : undefined;
  }
  const types = schemaTypes(s)?.filter((t) => t !== "null");
  return types && types.length === 1 ? types[0] : undefined;
}

/** Sub-schema for an object key. */
export function propertySchema(schema: unknown, key: string, root: unknown): JSONSchema | undefined {
  const s = resolveSchema(schema, root);
  if (!s) return undefined;
  if (isObj(s.properties) && key in s.properties) return resolveSchema(s.properties[key], root);
  if (isObj(s.additionalProperties)) return resolveSchema(s.additionalProperties, root);
  const branches = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(branches)) {
    for (const b of branches) {
      const p = propertySchema(b, key, root);
      if (p) return p;
    }
  }
  return undefined;
}

/** Sub-schema for an array element. */
export function itemSchema(schema: unknown, index: number, root: unknown): JSONSchema | undefined {
  const s = resolveSchema(schema, root);
  if (!s) return undefined;
  if (Array.isArray(s.prefixItems) && index < s.prefixItems.length) return resolveSchema(s.prefixItems[index], root);
  if (Array.isArray(s.items)) return resolveSchema(s.items[index], root);
  if (isObj(s.items)) return resolveSchema(s.items, root);
  const branches = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(branches)) {
    for (const b of branches) {
      const p = itemSchema(b, index, root);
      if (p) return p;
    }
  }
  return undefined;
}

function fits(v: unknown, t: SchemaKind): boolean {
  switch (t) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    case "object":
      return isObj(v);
    case "array":
      return Array.isArray(v);
  }
  return false;
}

const NUMBER_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Convert v to type t, or return NO. */
function convert(v: unknown, t: SchemaKind): unknown {
  switch (t) {
    case "string":
      if (typeof v === "number" || typeof v === "boolean") return String(v);
      if (isObj(v) || Array.isArray(v)) return JSON.stringify(v);
      return NO;
    case "number":
    case "integer": {
      if (typeof v !== "string" || !NUMBER_RE.test(v.trim())) return NO;
      const n = Number(v.trim());
      return t === "integer" && !Number.isInteger(n) ? NO : n;
    }
    case "boolean": {
      const w = typeof v === "string" ? v.trim().toLowerCase() : "";
      return w === "true" ? true : w === "false" ? false : NO;
    }
    case "null":
      return typeof v === "string" && v.trim() === "null" ? null : NO;
    case "object": {
      if (typeof v !== "string") return NO;
      const r = parseJsonLoose(v.trim());
      return r.ok && isObj(r.value) ? r.value : NO;
    }
    case "array": {
      if (typeof v === "string") {
        const t2 = v.trim();
        if (t2.startsWith("[")) {
          const r = parseJsonLoose(t2);
          if (r.ok && Array.isArray(r.value)) return r.value;
        }
        const list = parseLooseList(t2);
        if (list) return list;
      }
      return v === null || v === undefined ? NO : [v];
    }
  }
  return NO;
}

const NO = Symbol("no-conversion");

function recurse(v: unknown, s: JSONSchema, root: unknown): unknown {
  if (Array.isArray(v)) return v.map((item, i) => coerceToSchema(item, itemSchema(s, i, root), root));
  if (isObj(v)) {
    for (const key of Object.keys(v)) {
      const sub = propertySchema(s, key, root);
      if (sub) v[key] = coerceToSchema(v[key], sub, root);
    }
  }
  return v;
}

/** Coerce a decoded value to `schema`; values it cannot convert are returned unchanged. */
export function coerceToSchema(value: unknown, schema: unknown, root: unknown = schema): unknown {
  const s = resolveSchema(schema, root);
  if (!s || value === undefined) return value;
  const branches = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(branches) && branches.length) {
    for (const b of branches) {
      const kinds = schemaTypes(resolveSchema(b, root));
      if (kinds && kinds.some((k) => fits(value, k))) return coerceToSchema(value, b, root);
    }
    for (const b of branches) {
      const kinds = schemaTypes(resolveSchema(b, root));
      if (!kinds) continue;
      for (const k of kinds) {
        const c = convert(value, k);
        if (c !== NO) return coerceToSchema(c, b, root);
      }
    }
    return value;
  }
  const types = schemaTypes(s);
  if (!types) return recurse(value, s, root);
  if (types.some((t) => fits(value, t))) return recurse(value, s, root);
  if (value === null) return null;
  for (const t of types) {
    const c = convert(value, t);
    if (c !== NO) return recurse(c, s, root);
  }
  return value;
}
