/** Writes SSE frames in DeepSeek's exact shape: LF framing, `event:` only for non-message events, sticky `p`/`o`. */

export class FrameEncoder {
  private lastP: string | undefined;
  private lastO: string | undefined;

  event(name: string, data: unknown): string {
    return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  comment(): string {
    return ": \n\n";
  }

  /** A `message` frame with an arbitrary payload (no sticky bookkeeping). */
  data(payload: unknown): string {
    return `data: ${JSON.stringify(payload)}\n\n`;
  }

  /** The root envelope `{"v":{"response":…}}`; it carries no p/o, so the next patch spells both out. */
  envelope(response: unknown): string {
    this.lastP = undefined;
    this.lastO = undefined;
    return `data: ${JSON.stringify({ v: { response } })}\n\n`;
  }

  /** A patch with `p` and `o` left out when they equal the previous top-level patch's. */
  patch(p: string, o: string, v: unknown): string {
    let s = "data: {";
    let first = true;
    if (p !== this.lastP) {
      s += `"p":${JSON.stringify(p)}`;
      first = false;
    }
    if (o !== this.lastO) {
      s += `${first ? "" : ","}"o":${JSON.stringify(o)}`;
      first = false;
    }
    s += `${first ? "" : ","}"v":${JSON.stringify(v)}}\n\n`;
    this.lastP = p;
    this.lastO = o;
    return s;
  }
}
