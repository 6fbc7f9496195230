/**
 * Turning one complete tool-call block into calls (toolcalls.md §2.2–§2.5, with our policy):
 * every invoke must name a declared tool and decode cleanly, otherwise the whole block is rejected
 * and the caller shows it as text. Calls whose arguments are all empty are dropped (§2.5).
 */
import { CDATA_OPEN, CdataScan, NOT_FOUND } from "./cdata.ts";
import type { BlockLevel } from "./block-scan.ts";
import { parseJsonLoose } from "./json-repair.ts";
import { resolveTool } from "./names.ts";
import { coerceToSchema, propertySchema } from "./schema.ts";
import { PARTIAL, matchToolTag, parseAttrs, type ToolTag } from "./tags.ts";
import type { ParsedToolCall, ToolSpec } from "./types.ts";
import { decodeParameter, isMeaningful, trimLayout } from "./values.ts";

interface RawParam {
  attrs: Record<string, string>;
  body: string;
}

interface RawInvoke {
  attrs: Record<string, string>;
  params: RawParam[];
  body: string;
  bad: boolean;
}

/** Tool tags of a complete block, in order, skipping CDATA and comments. */
function toolTags(block: string, level: BlockLevel): Array<{ at: number; tag: ToolTag }> {
  const out: Array<{ at: number; tag: ToolTag }> = [];
  const cdataLevel = Math.min(level, 2) as 0 | 1 | 2;
  let i = 0;
  while (i < block.length) {
    const lt = block.indexOf("<", i);
    if (lt < 0) break;
    i = lt;
    if (block.startsWith(CDATA_OPEN, i)) {
      const end = new CdataScan(i + CDATA_OPEN.length, cdataLevel).advance(block, true);
      if (end === NOT_FOUND) {
        if (level < 3) break;
        i += CDATA_OPEN.length;
      } else i = end;
      continue;
    }
    if (block.startsWith("<!--", i)) {
      const end = block.indexOf("-->", i + 4);
      if (end < 0) break;
      i = end + 3;
      continue;
    }
    const tag = matchToolTag(block, i, true);
    if (tag && tag !== PARTIAL) {
      out.push({ at: i, tag });
      i = tag.end;
    } else i++;
  }
  return out;
}

function collectInvokes(block: string, level: BlockLevel): RawInvoke[] {
  const invokes: RawInvoke[] = [];
  let cur: { inv: RawInvoke; bodyStart: number } | null = null;
  let param: { attrs: Record<string, string>; bodyStart: number } | null = null;
  const finish = (at: number) => {
    if (!cur) return;
    if (param) cur.inv.bad = true;
    cur.inv.body = block.slice(cur.bodyStart, at);
    invokes.push(cur.inv);
    cur = null;
    param = null;
  };
  for (const { at, tag } of toolTags(block, level)) {
    if (tag.name === "invoke") {
      if (tag.closing) finish(at);
      else {
        finish(at);
        const inv: RawInvoke = { attrs: parseAttrs(tag.attrs), params: [], body: "", bad: false };
        if (tag.selfClosing) invokes.push(inv);
        else cur = { inv, bodyStart: tag.end };
      }
    } else if (tag.name === "parameter") {
      if (!cur) continue;
      if (tag.closing) {
        if (param) cur.inv.params.push({ attrs: param.attrs, body: block.slice(param.bodyStart, at) });
        else cur.inv.bad = true;
        param = null;
      } else if (param) cur.inv.bad = true;
      else if (tag.selfClosing) cur.inv.params.push({ attrs: parseAttrs(tag.attrs), body: "" });
      else param = { attrs: parseAttrs(tag.attrs), bodyStart: tag.end };
    } else if (tag.closing) finish(at);
  }
  finish(block.length);
  return invokes;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON invoke body: `input` / `parameters` / `arguments` when present, else the object itself. */
function jsonBodyArguments(body: string): Record<string, unknown> | undefined {
  const r = parseJsonLoose(body);
  if (!r.ok || !isObj(r.value)) return undefined;
  for (const key of ["input", "parameters", "arguments"]) {
    let v = r.value[key];
    if (typeof v === "string") {
      const inner = parseJsonLoose(v.trim());
      if (inner.ok) v = inner.value;
    }
    if (isObj(v)) return v;
  }
  return r.value;
}

function decodeInvoke(inv: RawInvoke, tool: ToolSpec, level: BlockLevel): Record<string, unknown> | undefined {
  const root = tool.parameters;
  let args: Record<string, unknown>;
  if (!inv.params.length) {
    const body = inv.body.trim();
    if (!body) return {};
    if (!body.startsWith("{")) return undefined;
    const json = jsonBodyArguments(body);
    if (!json) return undefined;
    args = json;
  } else {
    args = {};
    const repeated = new WeakSet<unknown[]>();
    for (const p of inv.params) {
      const name = (p.attrs.name ?? "").trim();
      if (!name) continue;
      const str = p.attrs.string?.trim().toLowerCase();
      const value = decodeParameter(p.body, {
        name,
        schema: propertySchema(root, name, root),
        root,
        level: Math.min(level, 2) as 0 | 1 | 2,
        stringAttr: str === "true" ? true : str === "false" ? false : undefined,
      });
      const prev = args[name];
      if (!(name in args)) args[name] = value;
      else if (Array.isArray(prev) && repeated.has(prev)) prev.push(value);
      else {
        const list = [prev, value];
        repeated.add(list);
        args[name] = list;
      }
    }
    if (!Object.keys(args).length) return undefined;
  }
  return root ? (coerceToSchema(args, root, root) as Record<string, unknown>) : args;
}

export type BlockParse = { ok: true; calls: ParsedToolCall[] } | { ok: false; reason: string };

/** Parse a complete block; `ok: false` means it must be shown as text. */
export function parseBlock(block: string, tools: readonly ToolSpec[], level: BlockLevel = 0): BlockParse {
  const invokes = collectInvokes(block, level);
  if (!invokes.length) return { ok: false, reason: "no invoke" };
  const calls: ParsedToolCall[] = [];
  for (const inv of invokes) {
    if (inv.bad) return { ok: false, reason: "malformed invoke" };
    const name = trimLayout(inv.attrs.name ?? "").trim();
    if (!name) return { ok: false, reason: "invoke without a name" };
    const tool = resolveTool(name, tools);
    if (!tool) return { ok: false, reason: `undeclared tool ${name}` };
    const args = decodeInvoke(inv, tool, level);
    if (!args) return { ok: false, reason: `undecodable arguments for ${name}` };
    if (inv.params.length && !isMeaningful(args) && !Object.values(args).some((v) => v === false || v === 0)) continue;
    calls.push({ name: tool.name, arguments: args });
  }
  if (!calls.length) return { ok: false, reason: "only empty calls" };
  return { ok: true, calls };
}
