/**
 * Dev capture (§12.7): while `dev_capture.enabled` is on, the raw upstream exchanges of every business turn
 * (on providers that support a tap) are kept in memory, newest last, up to a limit and a body cap each.
 * The capture route tags its own loopback turn so it can pick that turn's exchanges out.
 */
import { randomBytes } from "node:crypto";
import type { RawExchangeInfo } from "../../core/upstream/provider.ts";
import type { TurnObserver, TurnStartInfo, TurnWatch } from "../../core/turn/turn-observer.ts";
import type { AppContext } from "../../context.ts";
import { devCaptureSettings } from "./capture-settings.ts";

export interface CaptureEntry {
  id: string;
  created_at: number;
  label: string;
  url: string;
  account_id?: string;
  status_code: number;
  request_body: Record<string, unknown>;
  chat_session_id?: string;
  /** Raw response bytes (capped). */
  bytes: Uint8Array[];
  size: number;
  response_truncated: boolean;
  /** The capture tag of the turn, when the capture route started it. */
  tag?: string;
  model?: string;
}

export class CaptureLog implements TurnObserver {
  private entries: CaptureEntry[] = [];
  private readonly issued = new Set<string>();
  private seq = 0;

  constructor(private readonly ctx: AppContext) {}

  turnEnded(): void {}

  /** A tag for one loopback turn of the capture route (honoured once it is issued). */
  issueTag(): string {
    const tag = randomBytes(16).toString("hex");
    this.issued.add(tag);
    return tag;
  }

  releaseTag(tag: string): void {
    this.issued.delete(tag);
  }

  turnStarted(info: TurnStartInfo): TurnWatch | undefined {
    const settings = devCaptureSettings(this.ctx);
    const tag = info.captureTag && this.issued.has(info.captureTag) ? info.captureTag : undefined;
    if (!settings.enabled && !tag) return undefined;
    let current: CaptureEntry | undefined;
    const cap = settings.max_body_bytes;
    return {
      event: () => {},
      ended: () => {},
      tap: {
        exchange: (x: RawExchangeInfo) => {
          current = {
            id: `cap_${Date.now().toString(36)}_${(++this.seq).toString(36)}`,
            created_at: Date.now(),
            label: x.label,
            url: x.url,
            account_id: x.account,
            status_code: x.statusCode,
            request_body: x.requestBody,
            chat_session_id: x.sessionId,
            bytes: [],
            size: 0,
            response_truncated: false,
            tag,
            model: info.turn.model.id,
          };
          this.entries.push(current);
          if (this.entries.length > settings.limit) this.entries.splice(0, this.entries.length - settings.limit);
        },
        chunk: (bytes: Uint8Array) => {
          if (!current) return;
          if (current.size + bytes.length > cap) {
            const room = cap - current.size;
            if (room > 0) current.bytes.push(bytes.slice(0, room));
            current.size = cap;
            current.response_truncated = true;
            return;
          }
          current.bytes.push(bytes.slice());
          current.size += bytes.length;
        },
      },
    };
  }

  /** Oldest first. */
  all(): CaptureEntry[] {
    return [...this.entries];
  }

  byTag(tag: string): CaptureEntry[] {
    return this.entries.filter((e) => e.tag === tag);
  }

  clear(): void {
    this.entries = [];
  }
}

export function responseBytes(entries: CaptureEntry[]): Uint8Array {
  return Buffer.concat(entries.flatMap((e) => e.bytes));
}

export function responseText(entry: CaptureEntry): string {
  return new TextDecoder().decode(Buffer.concat(entry.bytes));
}
