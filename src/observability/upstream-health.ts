/**
 * Signs that DeepSeek changed its protocol, refuses our client identity (client_version / protocol errors)
 * or puts a WAF / challenge page in front of us (waf). They are not per-account trouble, so they are kept here and shown on /readyz and in the admin console until
 * a turn succeeds again; the log line comes from the backend.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";

export interface UpstreamProblem {
  kind: string;
  message: string;
  at: number;
}

const PROTOCOL_KINDS = new Set(["client_version", "protocol", "waf"]);

export class UpstreamHealth implements TurnObserver {
  problem: UpstreamProblem | undefined;

  readonly onUpstreamError = (kind: string, _account: string | undefined, message: string): void => {
    if (PROTOCOL_KINDS.has(kind)) this.problem = { kind, message, at: Date.now() };
  };

  turnEnded(info: TurnOutcomeInfo): void {
    if (info.finishReason) this.problem = undefined;
  }
}
