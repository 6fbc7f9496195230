/**
 * Decoding one parameter body into a JSON value (toolcalls.md §2.3), guided by the declared schema:
 * CDATA (multi-section aware) is text, child elements are objects, `<item>` children are arrays,
 * plain text is sniffed as a JSON literal unless the schema says string.
 */
import { CDATA_OPEN, CdataScan, NOT_FOUND, cdataContent, type CdataLevel } from "./cdata.ts";
import { parseJsonLoose, parseLooseList } from "./json-repair.ts";
import { itemSchema, propertySchema, schemaKind, type SchemaKind } from "./schema.ts";
import { unescapeXml } from "./tags.ts";

type Tok =
  | { t: "text"; raw: string }
  | { t: "cdata"; text: string }
  | { t: "open"; name: string; raw: string; self: boolean }
  | { t: "close"; name: string; raw: string };

const ELEMENT_RE = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^<>]*?)?)(\/?)>/y;

/** Split a fragment into text, CDATA and element tokens (comments dropped). */
export function tokenizeFragment(s: string, level: CdataLevel = 0): Tok[] {
  const toks: Tok[] = [];
  let text = "";
  const flush = () => {
    if (text) toks.push({ t: "text", raw: text });
    text = "";
  };
  let i = 0;
  while (i < s.length) {
    const lt = s.indexOf("<", i);
    if (lt < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, lt);
    i = lt;
    if (s.startsWith(CDATA_OPEN, i)) {
      flush();
      const start = i + CDATA_OPEN.length;
      const end = new CdataScan(start, level).advance(s, true);
      if (end === NOT_FOUND) {
        toks.push({ t: "cdata", text: cdataContent(s.slice(start)) });
        i = s.length;
      } else {
        toks.push({ t: "cdata", text: cdataContent(s.slice(start, end - 3)) });
        i = end;
      }
      continue;
    }
    if (s.startsWith("<!--", i)) {
      const end = s.indexOf("-->", i + 4);
      i = end < 0 ? s.length : end + 3;
      continue;
    }
    ELEMENT_RE.lastIndex = i;
    const m = ELEMENT_RE.exec(s);
    if (m) {
      flush();
      if (m[1]) toks.push({ t: "close", name: m[2]!, raw: m[0] });
      else toks.push({ t: "open", name: m[2]!, raw: m[0], self: m[4] === "/" });
      i = ELEMENT_RE.lastIndex;
      continue;
    }
    text += "<";
    i++;
  }
  flush();
  return toks;
}

interface Node {
  name: string;
  kids: Node[];
  parts: Array<{ cdata: boolean; text: string }>;
}

function buildTree(toks: Tok[]): Node {
  const root: Node = { name: "", kids: [], parts: [] };
  const stack: Node[] = [root];
  for (const tok of toks) {
    const top = stack[stack.length - 1]!;
    if (tok.t === "text") top.parts.push({ cdata: false, text: unescapeXml(tok.raw) });
    else if (tok.t === "cdata") top.parts.push({ cdata: true, text: tok.text });
    else if (tok.t === "open") {
      if (tok.name.toLowerCase() === "br") {
        top.parts.push({ cdata: false, text: "\n" });
        continue;
      }
      const node: Node = { name: tok.name, kids: [], parts: [] };
      top.kids.push(node);
      if (!tok.self) stack.push(node);
    } else {
      if (tok.name.toLowerCase() === "br") continue;
      const at = stack.map((n) => n.name).lastIndexOf(tok.name);
      if (at > 0) stack.length = at;
    }
  }
  return root;
}

/** Names whose text must never be restructured (code, paths, free text). */
const PROTECTED = new Set([
  "content", "file_content", "text", "prompt", "query", "command", "cmd", "script", "code",
  "old_string", "new_string", "pattern", "path", "file_path",
]);

function isProtected(name: string): boolean {
  return PROTECTED.has(name.toLowerCase());
}

/** Drop surrounding whitespace only when it contains a line break (layout, not content). */
export function trimLayout(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && /\s/.test(s[a]!)) a++;
  if (s.slice(0, a).indexOf("\n") < 0) a = 0;
  let e = b;
  while (e > a && /\s/.test(s[e - 1]!)) e--;
  if (s.slice(e).indexOf("\n") >= 0) b = e;
  return s.slice(a, b);
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A JSON number / true / false / null, or undefined. Quoted strings are not unwrapped. */
function scalarLiteral(t: string): unknown {
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null") return null;
  if (JSON_NUMBER.test(t)) return Number(t);
  return undefined;
}

function containerJson(t: string): unknown {
  if (!(t.startsWith("{") || t.startsWith("["))) return undefined;
  const r = parseJsonLoose(t);
  return r.ok && r.value !== null && typeof r.value === "object" ? r.value : undefined;
}

interface Ctx {
  name: string;
  schema: unknown;
  root: unknown;
  level: CdataLevel;
}

/** Structured XML inside a CDATA or plain text: only clearly structured fragments count. */
function structuredXml(raw: string, ctx: Ctx): unknown {
  if (raw.indexOf("<") < 0) return undefined;
  const tree = buildTree(tokenizeFragment(raw, ctx.level));
  const kids = tree.kids;
  const structured =
    kids.length >= 2 || kids.some((k) => k.kids.length > 0) || (kids.length > 0 && kids.every((k) => k.name === "item"));
  if (!structured) return undefined;
  return nodeValue(tree, ctx);
}

/** Text that came from CDATA: a string unless the schema (or clear structure) says otherwise. */
function fromCdata(raw: string, ctx: Ctx, kind: SchemaKind | undefined): unknown {
  if (kind === "string") return raw;
  const t = raw.trim();
  if (kind === "number" || kind === "integer" || kind === "boolean" || kind === "null") {
    const v = scalarLiteral(t);
    return v === undefined ? raw : v;
  }
  if (kind === "object" || kind === "array") {
    return containerJson(t) ?? structuredXml(raw, ctx) ?? parseLooseList(t) ?? raw;
  }
  const json = containerJson(t);
  if (json !== undefined) return json;
  if (isProtected(ctx.name)) return raw;
  return structuredXml(raw, ctx) ?? parseLooseList(t) ?? raw;
}

/** Entity-decoded plain text. */
function fromPlain(text: string, ctx: Ctx, kind: SchemaKind | undefined): unknown {
  if (kind === "string") return text;
  const t = text.trim();
  const scalar = scalarLiteral(t);
  if (scalar !== undefined) return scalar;
  const json = containerJson(t);
  if (json !== undefined) return json;
  if (isProtected(ctx.name) && kind !== "object" && kind !== "array") return text;
  return parseLooseList(t) ?? text;
}

function leafValue(parts: Node["parts"], ctx: Ctx): unknown {
  const kind = schemaKind(ctx.schema, ctx.root);
  const meaningful = parts.filter((p) => p.cdata || p.text.trim() !== "");
  if (meaningful.length && meaningful.every((p) => p.cdata)) {
    return fromCdata(meaningful.map((p) => p.text).join(""), ctx, kind);
  }
  return fromPlain(trimLayout(parts.map((p) => p.text).join("")), ctx, kind);
}

function nodeValue(node: Node, ctx: Ctx): unknown {
  if (!node.kids.length) return leafValue(node.parts, ctx);
  if (node.kids.every((k) => k.name === "item")) {
    return node.kids.map((k, i) => nodeValue(k, { ...ctx, name: k.name, schema: itemSchema(ctx.schema, i, ctx.root) }));
  }
  const obj: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  for (const k of node.kids) {
    const idx = counts.get(k.name) ?? 0;
    counts.set(k.name, idx + 1);
    let sub = propertySchema(ctx.schema, k.name, ctx.root);
    if (idx > 0 || node.kids.filter((x) => x.name === k.name).length > 1) {
      sub = sub && schemaKind(sub, ctx.root) === "array" ? itemSchema(sub, idx, ctx.root) : sub;
    }
    const v = nodeValue(k, { ...ctx, name: k.name, schema: sub });
    if (idx === 0) obj[k.name] = v;
    else if (idx === 1) obj[k.name] = [obj[k.name], v];
    else (obj[k.name] as unknown[]).push(v);
  }
  const text = node.parts.map((p) => p.text).join("").trim();
  if (text) obj._text = text;
  return obj;
}

/** Body text with CDATA unwrapped and entities decoded, markup kept (for string-typed values). */
function flatten(toks: Tok[]): string {
  let out = "";
  for (const tok of toks) {
    if (tok.t === "text") out += unescapeXml(tok.raw);
    else if (tok.t === "cdata") out += tok.text;
    else out += tok.raw;
  }
  return out;
}

export interface ParamOptions {
  name: string;
  schema: unknown;
  root: unknown;
  level: CdataLevel;
  /** DeepSeek-native `string="true|false"` attribute. */
  stringAttr?: boolean;
}

/** Decode one `<parameter>` body. */
export function decodeParameter(body: string, opts: ParamOptions): unknown {
  const ctx: Ctx = { name: opts.name, schema: opts.schema, root: opts.root, level: opts.level };
  const toks = tokenizeFragment(body, opts.level);
  const kind = opts.stringAttr === true ? "string" : schemaKind(opts.schema, opts.root);
  const significant = toks.filter((t) => t.t !== "text" || t.raw.trim() !== "");
  if (significant.length && significant.every((t) => t.t === "cdata")) {
    const raw = significant.map((t) => (t as { text: string }).text).join("");
    if (opts.stringAttr === false) return containerJson(raw.trim()) ?? scalarLiteral(raw.trim()) ?? raw;
    return fromCdata(raw, ctx, kind);
  }
  const hasElements = toks.some((t) => t.t === "open" || t.t === "close");
  if (!hasElements || kind === "string") {
    const text = trimLayout(flatten(toks));
    if (opts.stringAttr === false) return containerJson(text.trim()) ?? scalarLiteral(text.trim()) ?? text;
    return fromPlain(text, ctx, kind);
  }
  return nodeValue(buildTree(toks), ctx);
}

/** A value that carries information: `false` and `0` count, blank strings / nulls / empty containers do not. */
export function isMeaningful(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return v.trim() !== "";
  if (Array.isArray(v)) return v.some(isMeaningful);
  if (typeof v === "object") return Object.values(v as object).some(isMeaningful);
  return true;
}
