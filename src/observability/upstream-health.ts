/**
 * Signs that an upstream changed its protocol, refuses our client identity (client_version / protocol errors)
 * or puts a WAF / challenge page in front of us (waf). They are not per-account trouble, so they are kept here,
 * per provider, and shown on /readyz and in the admin console until a turn on that provider succeeds again; the
 * log line comes from the provider. One provider's problem never shows as another's.
 */
import type { TurnObserver, TurnOutcomeInfo } from "../core/turn/turn-observer.ts";

export interface UpstreamProblem {
  kind: string;
  message: string;
  at: number;
}

const PROTOCOL_KINDS = new Set(["client_version", "protocol", "waf"]);

export class UpstreamHealth implements TurnObserver {
  private readonly problems = new Map<string, UpstreamProblem>();

  /** `primary`: the provider whose problem is the top-level one (errors reported without a provider count as its). */
  constructor(private readonly primary = "") {}

  /** The primary provider's problem (the top-level `upstream_problem` of /readyz, as before providers). */
  get problem(): UpstreamProblem | undefined {
    return this.problems.get(this.primary);
  }

  /** The current problem of one provider. */
  problemOf(provider: string): UpstreamProblem | undefined {
    return this.problems.get(provider);
  }

  readonly onUpstreamError = (kind: string, _account: string | undefined, message: string, provider?: string): void => {
    if (PROTOCOL_KINDS.has(kind)) this.problems.set(provider ?? this.primary, { kind, message, at: Date.now() });
  };

  turnEnded(info: TurnOutcomeInfo): void {
    if (info.finishReason) this.problems.delete(info.turn.model.provider);
  }
}
