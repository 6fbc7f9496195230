/**
 * Removes the replayed text at the start of a continue round (protocol §4.14 step 4).
 *
 * A `chat/continue` stream opens with an envelope holding a full snapshot: its fragments carry the
 * *entire* previous content plus the first new characters. Reasoning and answer are handled separately.
 * The class keeps the text collected so far per channel and returns, for each incoming piece, the part
 * to append.
 *
 * Rules for a piece `x` against the collected text `s` while a channel is "armed" (from `beginRound()`
 * until that channel has appended something new):
 * - snapshot pieces (`snapshot: true`, from the envelope) are matched against `s` from a replay cursor,
 *   so a snapshot split over several fragments (e.g. one THINK per search stage) is recognised too:
 *     x fits inside `s` at the cursor → dropped (cursor advances);
 *     x starts with the rest of `s` → only the new tail is appended;
 *     otherwise → appended whole.
 *   No minimum length applies to snapshot pieces (the reference's threshold guards ordinary tokens).
 * - other pieces follow the reference rule literally: fewer than 32 code points → append; longer than `s`
 *   and starting with `s` → append the part after `s`; shorter than `s` and a prefix of it → drop;
 *   otherwise append.
 * Outside continue rounds (before the first `beginRound()`), and once a channel has appended, pieces pass
 * through unchanged.
 */

export type DedupeChannel = "reasoning" | "text";

const MIN_DEDUPE_CODE_POINTS = 32;

class ChannelDedupe {
  /** Collected text as a list of pieces, joined lazily (only when a comparison needs it). */
  private parts: string[] = [];
  private armed = false;
  private cursor = 0;

  get text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join("")];
    return this.parts[0] ?? "";
  }

  arm(): void {
    this.armed = true;
    this.cursor = 0;
  }

  accept(x: string, snapshot: boolean): string {
    if (x.length === 0) return "";
    if (!this.armed) return this.append(x);
    const s = this.text;
    if (snapshot) {
      const rest = s.length - this.cursor;
      if (x.length <= rest && s.startsWith(x, this.cursor)) {
        this.cursor += x.length;
        return "";
      }
      if (x.length > rest && x.startsWith(rest === s.length ? s : s.slice(this.cursor))) {
        return this.append(x.slice(rest));
      }
      return this.append(x);
    }
    if (countCodePointsBelow(x, MIN_DEDUPE_CODE_POINTS)) return this.append(x);
    if (x.length > s.length && x.startsWith(s)) return this.append(x.slice(s.length));
    if (x.length < s.length && s.startsWith(x)) return "";
    return this.append(x);
  }

  private append(x: string): string {
    if (x.length === 0) return "";
    this.armed = false;
    this.parts.push(x);
    return x;
  }
}

/** True when `x` has fewer than `limit` code points (stops counting early). */
function countCodePointsBelow(x: string, limit: number): boolean {
  if (x.length < limit) return true;
  if (x.length >= limit * 2) return false;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    const c = x.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = x.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue; // low half of a pair
    }
    if (++n >= limit) return false;
  }
  return true;
}

export class ContinueDedupe {
  private readonly reasoning = new ChannelDedupe();
  private readonly answer = new ChannelDedupe();

  /** Call when a continue round's stream starts. */
  beginRound(): void {
    this.reasoning.arm();
    this.answer.arm();
  }

  /**
   * Feed every reasoning/text piece (of all rounds, in order). Returns what to append ("" = drop).
   * `snapshot`: the piece came from the round's envelope (`DeepSeekEvent.snapshot`).
   */
  accept(channel: DedupeChannel, piece: string, snapshot = false): string {
    return (channel === "reasoning" ? this.reasoning : this.answer).accept(piece, snapshot);
  }

  /** The text collected so far on a channel. */
  collected(channel: DedupeChannel): string {
    return (channel === "reasoning" ? this.reasoning : this.answer).text;
  }
}
