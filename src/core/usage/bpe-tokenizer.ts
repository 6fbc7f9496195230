/**
 * A lean byte-level BPE tokenizer, exact to @lenml/tokenizers (transformers.js) for the DeepSeek V3 vocabulary:
 * added tokens are split out first (leftmost, longest), each other section goes through the Split regexes
 * (Isolated: matches and the text between them are both pieces), each piece is UTF-8 encoded to byte-level
 * symbols and merged by rank (lowest rank first, leftmost on ties).
 *
 * Everything is integer ids in typed arrays: merges in an open-addressing table keyed by (left, right) id,
 * built once by the data generator (buildMergeTable) and used in place from the data file.
 * Counting runs as a resumable job so the async API can yield to the event loop between slices of work,
 * including in the middle of one very long piece.
 */
import type { BpeTables } from "./bpe-format.ts";

/** Pieces at most this long (UTF-16 units) are cached (their token count). */
const CACHE_MAX_KEY = 48;
const CACHE_ENTRIES = 8192;
/** Pieces longer than this (bytes) are merged with a heap and can pause mid-way. */
const HEAP_MIN = 128;
/** How many pieces / heap steps between two clock reads. */
const CLOCK_EVERY = 64;

export class BpeTokenizer {
  private readonly left: Uint32Array;
  private readonly right: Uint32Array;
  private readonly delta: Uint32Array;
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly byteIds: Uint32Array;
  readonly splits: RegExp[];
  private readonly added: Map<string, number>;
  /** Added-token lengths, longest first. */
  private readonly addedLengths: number[];
  /** First two UTF-16 units of every added token. */
  private readonly addedHeads: Set<string>;
  private readonly addedFirst: string;
  private readonly cache = new Map<string, number>();

  constructor(tables: BpeTables) {
    this.left = tables.left;
    this.right = tables.right;
    this.delta = tables.delta;
    this.table = tables.table;
    this.mask = tables.table.length - 1;
    if ((this.mask & tables.table.length) !== 0) throw new Error("merge table size must be a power of two");
    this.byteIds = Uint32Array.from(tables.header.byteIds);
    this.splits = tables.header.splits.map((s) => new RegExp(s, "gu"));
    this.added = new Map(tables.header.added);
    this.addedLengths = [...new Set(tables.header.added.map(([c]) => c.length))].sort((a, b) => b - a);
    this.addedHeads = new Set(tables.header.added.map(([c]) => c.slice(0, 2)));
    const firsts = new Set(tables.header.added.map(([c]) => c[0]!));
    // The fast scan looks for one first character; all DeepSeek added tokens start with "<".
    if (firsts.size > 1) throw new Error("added tokens with different first characters are not supported");
    this.addedFirst = [...firsts][0] ?? "\u0000";
  }

  /** Rank of merging (a, b), or -1. */
  rank(a: number, b: number): number {
    const table = this.table;
    const mask = this.mask;
    let h = slot(a, b, mask);
    for (;;) {
      const r = table[h]!;
      if (r === 0) return -1;
      if (this.left[r - 1] === a && this.right[r - 1] === b) return r - 1;
      h = (h + 1) & mask;
    }
  }

  mergedId(rank: number): number {
    return rank + this.delta[rank]!;
  }

  /** Token count of `text` (no special tokens added). Runs to completion. */
  count(text: string): number {
    if (!text) return 0;
    const job = new CountJob(this, text, null);
    job.run(Infinity);
    return job.total;
  }

  /** Token ids of `text` (no special tokens added). For tests and tools; not cached. */
  encode(text: string): number[] {
    const ids: number[] = [];
    if (!text) return ids;
    new CountJob(this, text, ids).run(Infinity);
    return ids;
  }

  /** A resumable count: call `run(deadline)` until it returns true, then read `total`. */
  job(text: string): CountJob {
    return new CountJob(this, text, null);
  }

  /** Leftmost added token at or after `from`: [index, length, id], or null. */
  nextAdded(text: string, from: number): [number, number, number] | null {
    let i = text.indexOf(this.addedFirst, from);
    while (i >= 0) {
      if (this.addedHeads.has(text.slice(i, i + 2))) {
        for (const len of this.addedLengths) {
          const id = this.added.get(text.slice(i, i + len));
          if (id !== undefined) return [i, len, id];
        }
      }
      i = text.indexOf(this.addedFirst, i + 1);
    }
    return null;
  }

  cachedCount(piece: string): number | undefined {
    return this.cache.get(piece);
  }

  remember(piece: string, count: number): void {
    if (piece.length > CACHE_MAX_KEY) return;
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(piece, count);
  }

  /** Byte-level symbol ids of `piece` (UTF-8; a lone surrogate becomes U+FFFD, as TextEncoder does). */
  symbols(piece: string, out: Uint32Array): number {
    const ids = this.byteIds;
    let n = 0;
    for (let i = 0; i < piece.length; i++) {
      let c = piece.charCodeAt(i);
      if (c < 0x80) {
        out[n++] = ids[c]!;
        continue;
      }
      if (c < 0x800) {
        out[n++] = ids[0xc0 | (c >> 6)]!;
        out[n++] = ids[0x80 | (c & 63)]!;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < piece.length ? piece.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[n++] = ids[0xf0 | (c >> 18)]!;
          out[n++] = ids[0x80 | ((c >> 12) & 63)]!;
          out[n++] = ids[0x80 | ((c >> 6) & 63)]!;
          out[n++] = ids[0x80 | (c & 63)]!;
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = ids[0xe0 | (c >> 12)]!;
      out[n++] = ids[0x80 | ((c >> 6) & 63)]!;
      out[n++] = ids[0x80 | (c & 63)]!;
    }
    return n;
  }
}

/** The merge lookup table (load factor ≤ 0.5, linear probing; rank + 1 per slot, 0 = empty). */
export function buildMergeTable(left: Uint32Array, right: Uint32Array): Int32Array {
  let size = 1024;
  while (size < left.length * 2) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let r = 0; r < left.length; r++) {
    let h = slot(left[r]!, right[r]!, mask);
    while (table[h] !== 0) h = (h + 1) & mask;
    table[h] = r + 1;
  }
  return table;
}

function slot(a: number, b: number, mask: number): number {
  return ((Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0) & mask;
}

/** One level of the Split cascade over one string: yields the text between matches and the matches. */
class SplitLevel {
  private str = "";
  private prev = 0;
  private from = 0;
  private pending: string | null = null;
  constructor(private readonly re: RegExp) {}

  reset(s: string): void {
    this.str = s;
    this.prev = 0;
    this.from = 0;
    this.pending = null;
  }

  next(): string | null {
    for (;;) {
      if (this.pending !== null) {
        const p = this.pending;
        this.pending = null;
        return p;
      }
      const s = this.str;
      if (this.from > s.length) return null;
      // The regex is shared; lastIndex is set right before each exec (no await in between).
      this.re.lastIndex = this.from;
      const m = this.re.exec(s);
      if (m === null) {
        this.from = s.length + 1;
        if (this.prev < s.length) return s.slice(this.prev);
        return null;
      }
      const idx = m.index;
      const len = m[0].length;
      const gap = this.prev < idx ? s.slice(this.prev, idx) : null;
      this.prev = idx + len;
      if (len > 0) {
        this.from = idx + len;
        this.pending = m[0];
      } else {
        // An empty match: advance one code point (matchAll semantics with the u flag).
        const c = s.charCodeAt(idx);
        this.from = idx + (c >= 0xd800 && c <= 0xdbff && idx + 1 < s.length ? 2 : 1);
      }
      if (gap !== null) return gap;
    }
  }
}

let symbolBuffer = new Uint32Array(1024);

/** Counting (or encoding) one text; `run` works until the deadline and can be called again to resume. */
export class CountJob {
  total = 0;
  private pos = 0;
  private sectionOpen = false;
  private readonly levels: SplitLevel[];
  private depth = -1;
  private long: LongMerge | null = null;

  constructor(
    private readonly tok: BpeTokenizer,
    private readonly text: string,
    private readonly ids: number[] | null,
  ) {
    this.levels = tok.splits.map((re) => new SplitLevel(re));
  }

  /** Works until done (true) or until performance.now() passes `deadline` (false). */
  run(deadline: number): boolean {
    let tick = 0;
    for (;;) {
      if (this.long !== null) {
        if (!this.long.run(deadline, this.ids)) return false;
        this.total += this.long.count;
        this.long = null;
      }
      if (++tick >= CLOCK_EVERY) {
        tick = 0;
        if (deadline !== Infinity && performance.now() > deadline) return false;
      }
      const piece = this.nextPiece();
      if (piece === null) return true;
      this.piece(piece);
    }
  }

  /** The next pre-token, or null at the end (added tokens are counted on the way). */
  private nextPiece(): string | null {
    const levels = this.levels;
    const last = levels.length - 1;
    for (;;) {
      if (this.depth < 0) {
        if (!this.openSection()) return null;
        continue;
      }
      const piece = levels[this.depth]!.next();
      if (piece === null) {
        this.depth--;
        continue;
      }
      if (this.depth === last) return piece;
      levels[++this.depth]!.reset(piece);
    }
  }

  /** Starts the cascade on the next section of plain text; counts the added token after it. */
  private openSection(): boolean {
    if (this.sectionOpen) {
      this.sectionOpen = false;
      const added = this.pendingAdded;
      this.pendingAdded = null;
      if (added !== null) {
        this.total++;
        this.ids?.push(added);
      }
    }
    const text = this.text;
    if (this.pos >= text.length) return false;
    const hit = this.tok.nextAdded(text, this.pos);
    const end = hit === null ? text.length : hit[0];
    const section = text.slice(this.pos, end);
    this.pos = hit === null ? text.length : hit[0] + hit[1];
    this.pendingAdded = hit === null ? null : hit[2];
    this.sectionOpen = true;
    if (section.length > 0) {
      if (this.levels.length === 0) {
        this.piece(section);
        return true;
      }
      this.levels[0]!.reset(section);
      this.depth = 0;
    }
    return true;
  }
  private pendingAdded: number | null = null;

  private piece(piece: string): void {
    const tok = this.tok;
    if (this.ids === null) {
      const cached = tok.cachedCount(piece);
      if (cached !== undefined) {
        this.total += cached;
        return;
      }
    }
    if (symbolBuffer.length < piece.length * 3) symbolBuffer = new Uint32Array(piece.length * 3 + 1024);
    const n = tok.symbols(piece, symbolBuffer);
    if (n >= HEAP_MIN) {
      this.long = new LongMerge(tok, symbolBuffer.slice(0, n));
      return;
    }
    const count = mergeShort(tok, symbolBuffer, n, this.ids);
    this.total += count;
    if (this.ids === null) tok.remember(piece, count);
  }
}

const pairRanks = new Int32Array(HEAP_MIN);

/** Merges a short word in place: scan for the lowest rank (leftmost on ties), merge, update both neighbours. */
function mergeShort(tok: BpeTokenizer, sym: Uint32Array, n: number, ids: number[] | null): number {
  const ranks = pairRanks;
  for (let i = 0; i + 1 < n; i++) ranks[i] = tok.rank(sym[i]!, sym[i + 1]!);
  for (;;) {
    let best = -1;
    let bestRank = 0x7fffffff;
    for (let i = 0; i + 1 < n; i++) {
      const r = ranks[i]!;
      if (r >= 0 && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) break;
    sym[best] = tok.mergedId(bestRank);
    for (let i = best + 1; i + 1 < n; i++) sym[i] = sym[i + 1]!;
    for (let i = best + 1; i + 2 < n; i++) ranks[i] = ranks[i + 1]!;
    n--;
    if (best > 0) ranks[best - 1] = tok.rank(sym[best - 1]!, sym[best]!);
    if (best + 1 < n) ranks[best] = tok.rank(sym[best]!, sym[best + 1]!);
  }
  if (ids !== null) for (let i = 0; i < n; i++) ids.push(sym[i]!);
  return n;
}

/** Pair keys in the heap: rank * 2^24 + position of the left symbol (lower = earlier merge). */
const POS_BITS = 2 ** 24;

/**
 * Merges one long word with a binary heap over (rank, position) and a linked list of symbols; resumable.
 * Words of 2^24 bytes or more are merged in 2^24-byte chunks' worth of positions (never in practice).
 */
class LongMerge {
  count = 0;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private heap: Float64Array;
  private size = 0;
  private alive: number;
  private readonly scale: number;

  constructor(
    private readonly tok: BpeTokenizer,
    private readonly sym: Uint32Array,
  ) {
    const n = sym.length;
    this.alive = n;
    this.scale = n < POS_BITS ? POS_BITS : 2 ** Math.ceil(Math.log2(n + 1));
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.next[i] = i + 1 < n ? i + 1 : -1;
      this.prev[i] = i - 1;
    }
    this.heap = new Float64Array(Math.max(16, n));
    for (let i = 0; i + 1 < n; i++) {
      const r = tok.rank(sym[i]!, sym[i + 1]!);
      if (r >= 0) this.push(r * this.scale + i);
    }
  }

  run(deadline: number, ids: number[] | null): boolean {
    const { sym, next, prev, tok } = this;
    let tick = 0;
    while (this.size > 0) {
      if (++tick >= 4096) {
        tick = 0;
        if (deadline !== Infinity && performance.now() > deadline) return false;
      }
      const key = this.pop();
      const rank = Math.floor(key / this.scale);
      const i = key - rank * this.scale;
      const j = next[i]!;
      // Stale entry: the left symbol was merged away (prev = -2) or its pair changed.
      if (prev[i] === -2 || j < 0 || tok.rank(sym[i]!, sym[j]!) !== rank) continue;
      sym[i] = tok.mergedId(rank);
      const k = next[j]!;
      next[i] = k;
      if (k >= 0) prev[k] = i;
      prev[j] = -2;
      this.alive--;
      const p = prev[i]!;
      if (p >= 0) {
        const r = tok.rank(sym[p]!, sym[i]!);
        if (r >= 0) this.push(r * this.scale + p);
      }
      if (k >= 0) {
        const r = tok.rank(sym[i]!, sym[k]!);
        if (r >= 0) this.push(r * this.scale + i);
      }
    }
    this.count = this.alive;
    if (ids !== null) for (let i = 0; i >= 0; i = next[i]!) ids.push(sym[i]!);
    return true;
  }

  private push(v: number): void {
    if (this.size === this.heap.length) {
      const bigger = new Float64Array(this.heap.length * 2);
      bigger.set(this.heap);
      this.heap = bigger;
    }
    const h = this.heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= v) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = v;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const v = h[--this.size]!;
    let i = 0;
    const size = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && h[c + 1]! < h[c]!) c++;
      if (h[c]! >= v) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = v;
    return top;
  }
}
