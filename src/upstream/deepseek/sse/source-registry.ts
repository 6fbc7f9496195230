/**
 * Search sources seen in one DeepSeek stream (protocol §4.5, §4.10): every result object with an
 * http(s) `url` from TOOL_SEARCH `results[]` and TOOL_OPEN `result`, in order of first appearance,
 * deduplicated by URL; plus the fallback index heuristic for markers without an exact link.
 */

import type { SearchSource } from "../events.ts";
import type { CitationMarkerKind } from "./citation-markers.ts";

const HTTP_URL = /^https?:\/\//i;

export class SourceRegistry {
  /** All sources, in order of first appearance. */
  readonly all: SearchSource[] = [];
  private readonly byUrl = new Map<string, SearchSource>();
  /** Sources added since the last `takeNew()`. */
  private fresh: SearchSource[] = [];
  private sawReferenceZero = false;

  /** Registers one result object; returns its (deduplicated) source, or undefined if it has no http(s) url. */
  add(obj: unknown): SearchSource | undefined {
    if (obj === null || typeof obj !== "object") return undefined;
    const rec = obj as Record<string, unknown>;
    const url = rec.url;
    if (typeof url !== "string" || !HTTP_URL.test(url)) return undefined;
    const known = this.byUrl.get(url);
    if (known) return known;
    const src: SearchSource = { url };
    if (typeof rec.title === "string" && rec.title !== "") src.title = rec.title;
    if (typeof rec.cite_index === "number" && Number.isFinite(rec.cite_index)) src.citeIndex = rec.cite_index;
    this.byUrl.set(url, src);
    this.all.push(src);
    this.fresh.push(src);
    return src;
  }

  /** Registers every result object of an array; returns the sources in array order (duplicates mapped). */
  addAll(list: unknown): SearchSource[] {
    const out: SearchSource[] = [];
    if (!Array.isArray(list)) return out;
    for (const item of list) {
      const s = this.add(item);
      if (s) out.push(s);
    }
    return out;
  }

  hasNew(): boolean {
    return this.fresh.length > 0;
  }

  takeNew(): SearchSource[] {
    const f = this.fresh;
    this.fresh = [];
    return f;
  }

  /** Must be called for every marker in order, so `[reference:0]` switches the heuristic to zero-based. */
  noteMarker(kind: CitationMarkerKind, index: number): void {
    if (kind === "reference" && index === 0) this.sawReferenceZero = true;
  }

  /**
   * The reference heuristic: k = N (one-based), or N+1 for `reference` markers once `[reference:0]` was
   * seen; a source whose numeric `cite_index` equals k wins, else the k-th source.
   */
  guess(kind: CitationMarkerKind, index: number): SearchSource | undefined {
    const k = kind === "reference" && this.sawReferenceZero ? index + 1 : index;
    for (const s of this.all) if (s.citeIndex === k) return s;
    return k >= 1 ? this.all[k - 1] : undefined;
  }
}
