/**
 * Citation markers in DeepSeek answer text, for every client surface (protocol §4.10).
 *
 * The upstream writes inline markers: `[reference:N]` (zero-based in current streams) or `[citation:N]`
 * (one-based, older streams). Surfaces either render them (non-streaming: `[D](url)`), or strip them
 * (streaming deltas) and report a citation list at the end.
 *
 * Display number D: `[citation:N]` → N; `[reference:N]` → N+1 when the text contains `[reference:0]`
 * (a zero-based series), else N.
 * URL of a marker: the exact link the stream gave for that marker (parser `citation` events), else the
 * reference heuristic over the ordered source list: the source whose `citeIndex` equals D, else the D-th.
 */

export interface CitationSourceInfo {
  url: string;
  title?: string;
  citeIndex?: number;
}

/** What is known about the markers of one answer (from the parser's `citation` and `sources` events). */
export interface CitationContext {
  /** Exact marker → source links, e.g. the parser's `citation` events. The first link of a marker wins. */
  links?: ReadonlyArray<{ marker: string; source?: CitationSourceInfo }>;
  /** All sources in order of first appearance (for the heuristic). */
  sources?: readonly CitationSourceInfo[];
}

export interface Citation {
  /** Display number D (one-based). */
  number: number;
  url: string;
  title?: string;
  /** The first marker text that produced it. */
  marker: string;
}

const MARKER_RE = /\[(reference|citation):(\d+)\]/g;

function mayContain(text: string): boolean {
  return text.includes("[reference:") || text.includes("[citation:");
}

class MarkerResolver {
  private readonly zeroBased: boolean;
  private readonly byMarker = new Map<string, CitationSourceInfo>();
  private readonly sources: readonly CitationSourceInfo[];

  constructor(text: string, ctx: CitationContext) {
    this.zeroBased = text.includes("[reference:0]");
    this.sources = ctx.sources ?? [];
    for (const l of ctx.links ?? []) {
      if (l.source && !this.byMarker.has(l.marker)) this.byMarker.set(l.marker, l.source);
    }
  }

  displayNumber(kind: string, n: number): number {
    return kind === "reference" && this.zeroBased ? n + 1 : n;
  }

  source(marker: string, display: number): CitationSourceInfo | undefined {
    const exact = this.byMarker.get(marker);
    if (exact) return exact;
    for (const s of this.sources) if (s.citeIndex === display) return s;
    return display >= 1 ? this.sources[display - 1] : undefined;
  }
}

/** Non-streaming rendering: markers with a known URL become `[D](url)`; unknown markers stay as they are. */
export function renderCitations(text: string, ctx: CitationContext): string {
  if (!mayContain(text)) return text;
  const r = new MarkerResolver(text, ctx);
  return text.replace(MARKER_RE, (marker: string, kind: string, digits: string) => {
    const d = r.displayNumber(kind, Number(digits));
    const src = r.source(marker, d);
    return src ? `[${d}](${src.url})` : marker;
  });
}

/** Removes every complete marker from a finished text. */
export function stripCitationMarkers(text: string): string {
  return mayContain(text) ? text.replace(MARKER_RE, "") : text;
}

/** The distinct citations of an answer with a known URL, in order of first appearance, one per display number. */
export function buildCitationList(text: string, ctx: CitationContext): Citation[] {
  const out: Citation[] = [];
  if (!mayContain(text)) return out;
  const r = new MarkerResolver(text, ctx);
  const seen = new Set<number>();
  for (const m of text.matchAll(MARKER_RE)) {
    const d = r.displayNumber(m[1]!, Number(m[2]));
    if (seen.has(d)) continue;
    const src = r.source(m[0], d);
    if (!src) continue;
    seen.add(d);
    const c: Citation = { number: d, url: src.url, marker: m[0] };
    if (src.title !== undefined) c.title = src.title;
    out.push(c);
  }
  return out;
}

const HEADS = ["[reference:", "[citation:"] as const;
const MAX_DIGITS = 9;
const MAX_PARTIAL = HEADS[0].length + MAX_DIGITS;

/** Could `s` (starting with '[') still grow into a marker? */
function isPartialMarker(s: string): boolean {
  for (const head of HEADS) {
    if (s.length <= head.length) {
      if (head.startsWith(s)) return true;
      continue;
    }
    if (!s.startsWith(head)) continue;
    const digits = s.length - head.length;
    if (digits > MAX_DIGITS) continue;
    let ok = true;
    for (let i = head.length; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/**
 * Streaming marker stripper: removes `[reference:N]` / `[citation:N]` from text deltas, also when a marker
 * is split across deltas. Only a tail that may still become a marker is held back; everything else is
 * returned at once (whitespace untouched).
 */
export class StreamingCitationStripper {
  private held = "";

  push(delta: string): string {
    let text = this.held.length > 0 ? this.held + delta : delta;
    this.held = "";
    if (text.length === 0) return "";
    if (mayContain(text)) text = text.replace(MARKER_RE, "");
    const open = text.lastIndexOf("[");
    if (open !== -1 && text.length - open <= MAX_PARTIAL && isPartialMarker(text.slice(open))) {
      this.held = text.slice(open);
      return text.slice(0, open);
    }
    return text;
  }

  /** End of stream: releases a held tail that never became a marker. */
  flush(): string {
    const h = this.held;
    this.held = "";
    return h;
  }
}
