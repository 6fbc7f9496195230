/**
 * Inline citation markers in DeepSeek answer text (protocol §4.10):
 * `[reference:N]` (zero-based in current streams) and `[citation:N]` (one-based, older streams).
 */

export type CitationMarkerKind = "reference" | "citation";

export interface CitationMarker {
  /** The marker text as it appears, e.g. `[reference:3]`. */
  marker: string;
  kind: CitationMarkerKind;
  /** N as written in the marker. */
  index: number;
}

/** Global regex for complete markers; reset `lastIndex` (or use `matchAll`) before use. */
export const CITATION_MARKER_RE = /\[(reference|citation):(\d+)\]/g;

/** Cheap pre-check before running the regex. */
export function mayContainMarker(text: string): boolean {
  return text.includes("[reference:") || text.includes("[citation:");
}

export function findCitationMarkers(text: string): CitationMarker[] {
  if (!mayContainMarker(text)) return [];
  const out: CitationMarker[] = [];
  for (const m of text.matchAll(CITATION_MARKER_RE)) {
    out.push({ marker: m[0], kind: m[1] as CitationMarkerKind, index: Number(m[2]) });
  }
  return out;
}
