/**
 * The tool-tag recogniser (toolcalls.md §2.1): `<tool_calls>`, `<invoke>`, `<parameter>` in their
 * canonical, DSML and noisy spellings, plus the small XML helpers (attributes, entities) the
 * parser and renderer share.
 */

export type ToolTagName = "tool_calls" | "invoke" | "parameter";

export interface ToolTag {
  name: ToolTagName;
  closing: boolean;
  selfClosing: boolean;
  /** Index just past the tag. */
  end: number;
  /** Raw attribute text (between the local name and `>`). */
  attrs: string;
}

/** Returned when the text ends before the tag can be decided (streaming only). */
export const PARTIAL = 1 as const;
export type TagMatch = ToolTag | null | typeof PARTIAL;

/** Longest attribute section we accept; stops a stray quote from swallowing a whole reply. */
const MAX_ATTRS = 1024;

interface NameRule {
  word: string;
  name: ToolTagName;
  /** Only counts when the tag carries DSML noise (`tool-calls`, native `function_calls`). */
  needsDsml: boolean;
}

const NAME_RULES: NameRule[] = [
  { word: "tool_calls", name: "tool_calls", needsDsml: false },
  { word: "tool-calls", name: "tool_calls", needsDsml: true },
  { word: "function_calls", name: "tool_calls", needsDsml: true },
  { word: "invoke", name: "invoke", needsDsml: false },
  { word: "parameter", name: "parameter", needsDsml: false },
];

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r";
}

function isPipe(c: string): boolean {
  return c === "|" || c === "\uFF5C";
}

/** 1 = `word` matches case-insensitively at i, 0 = it does not, -1 = the text ends inside a match. */
function matchWord(s: string, i: number, word: string): 1 | 0 | -1 {
  for (let k = 0; k < word.length; k++) {
    if (i + k >= s.length) return -1;
    let c = s.charCodeAt(i + k);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== word.charCodeAt(k)) return 0;
  }
  return 1;
}

/**
 * Recognise a tool tag whose first `<` is at `i`. With `final` false, a tag the text ends inside
 * of is reported as PARTIAL so a stream can wait for more input.
 */
export function matchToolTag(s: string, i: number, final: boolean): TagMatch {
  const n = s.length;
  const more = final ? null : PARTIAL;
  let j = i;
  while (j < n && s[j] === "<") j++;
  if (j >= n) return more;
  let closing = false;
  if (s[j] === "/") {
    closing = true;
    j++;
  }
  let dsml = false;
  for (;;) {
    if (j >= n) return more;
    const c = s[j]!;
    if (isPipe(c) || isSpace(c)) {
      j++;
      dsml = true;
      continue;
    }
    const w = matchWord(s, j, "dsml");
    if (w === -1) return more;
    if (w === 1) {
      j += 4;
      dsml = true;
      if (j < n && (s[j] === "-" || s[j] === "_")) j++;
      continue;
    }
    break;
  }
  let rule: NameRule | undefined;
  let partial = false;
  for (const r of NAME_RULES) {
    if (r.needsDsml && !dsml) continue;
    const m = matchWord(s, j, r.word);
    if (m === 1) {
      rule = r;
      break;
    }
    if (m === -1) partial = true;
  }
  if (!rule) return partial ? more : null;
  let k = j + rule.word.length;
  let pipe = false;
  while (k < n && isPipe(s[k]!)) {
    k++;
    pipe = true;
  }
  const nameOnly = (): ToolTag => ({ name: rule.name, closing, selfClosing: false, end: k, attrs: "" });
  if (k >= n) return final ? (pipe ? nameOnly() : null) : PARTIAL;
  const b = s[k]!;
  if (!(isSpace(b) || b === ">" || b === "/")) return null;
  let quote = "";
  let p = k;
  for (; p < n; p++) {
    if (p - k > MAX_ATTRS) return pipe ? nameOnly() : null;
    const c = s[p]!;
    if (quote) {
      if (c === quote) quote = "";
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === ">") break;
    else if (c === "<") return pipe ? nameOnly() : null;
  }
  if (p >= n) return final ? (pipe ? nameOnly() : null) : PARTIAL;
  const attrs = s.slice(k, p);
  return { name: rule.name, closing, selfClosing: /\/\s*$/.test(attrs), end: p + 1, attrs };
}

const ATTR_RE = /([A-Za-z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Attributes of a tag, keys lower-cased, values entity-decoded. */
export function parseAttrs(attrs: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTR_RE.lastIndex = 0;
  for (let m = ATTR_RE.exec(attrs); m; m = ATTR_RE.exec(attrs)) {
    const key = m[1]!.toLowerCase();
    if (!(key in out)) out[key] = unescapeXml(m[2] ?? m[3] ?? "");
  }
  return out;
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00A0" };

/** Decode the XML/HTML entities a model plausibly writes (named basics plus numeric). */
export function unescapeXml(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/g, (all, body: string) => {
    if (body[0] === "#") {
      const code = body[1] === "x" || body[1] === "X" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? all;
  });
}

/** Escape text for an XML text node. */
export function escapeXmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escape text for a double-quoted XML attribute. */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s).replace(/"/g, "&quot;");
}

/** Wrap a string in CDATA, splitting every `]]>` so the section round-trips. */
export function cdata(s: string): string {
  return "<![CDATA[" + s.split("]]>").join("]]]]><![CDATA[>") + "]]>";
}
