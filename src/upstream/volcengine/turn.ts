/**
 * One Volcengine turn: takes a web id from the pool, sends the body, streams reasoning and answer, and
 * applies the failure classes — an entry-attributable failure before anything was shown moves the request
 * to another entry (at most `max_account_attempts`), everything else ends the turn. The whole turn is
 * bounded by `turn_timeout_seconds`.
 */
import type { TurnLimits } from "../../config/runtime-settings.ts";
import { TurnError } from "../../core/turn/turn-error.ts";
import { exhaustedAccountsError, failureToTurnError } from "../../core/turn/upstream-failure.ts";
import type { UpstreamEvent, UpstreamOutcome, UpstreamTurn } from "../../core/upstream/provider.ts";
import { chatBody, type BodyStyle } from "./body-template.ts";
import type { VolcengineClient } from "./client.ts";
import type { CredentialPool, EntryLease } from "./credentials/pool.ts";
import { VolcengineError } from "./errors.ts";
import { classifyVolcengineError, type VolcengineFailure } from "./failure-map.ts";
import { upstreamModelName } from "./models.ts";
import { withTurnDeadline } from "../../core/upstream/turn-deadline.ts";

export interface TurnDeps {
  pool: CredentialPool;
  client: () => VolcengineClient;
  limits: () => Pick<TurnLimits, "turnTimeoutMs" | "maxAccountAttempts">;
  bodyStyle: () => BodyStyle;
  report: (kind: string, entry: string | undefined, message: string) => void;
}


export class VolcengineTurnRunner {
  constructor(private readonly deps: TurnDeps) {}

  /** A turn under the total turn limit. `only`: exactly this entry (admin test), no fail-over. */
  async *run(turn: Pick<UpstreamTurn, "model" | "prompt" | "passthrough">, signal: AbortSignal, only?: string): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const limits = this.deps.limits();
    return yield* withTurnDeadline(limits.turnTimeoutMs, signal, (k, a, m) => this.deps.report(k, a, m), (limited) => this.runTurn(turn, limited, only ? 1 : limits.maxAccountAttempts, only));
  }

  private async *runTurn(turn: Pick<UpstreamTurn, "model" | "prompt" | "passthrough">, signal: AbortSignal, maxAttempts: number, only?: string): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const body = chatBody({ model: upstreamModelName(turn.model.id), prompt: turn.prompt, passthrough: turn.passthrough }, this.deps.bodyStyle());
    const tried = new Set<string>();
    const failures: VolcengineFailure[] = [];
    for (;;) {
      if (failures.length >= maxAttempts) throw exhaustedAccountsError(failures);
      let lease: EntryLease;
      try {
        lease = await this.deps.pool.acquire({ signal, exclude: tried, noWait: failures.length > 0, only });
      } catch (e) {
        if (signal.aborted) throw e;
        // Every usable entry was tried: say what went wrong with them rather than "unavailable".
        if (failures.length > 0 && e instanceof TurnError) throw exhaustedAccountsError(failures);
        throw e;
      }
      tried.add(lease.id);
      let visible = false;
      try {
        const stream = await this.deps.client().open({ webId: lease.webId, authorization: lease.authorization, body, signal });
        lease.accepted();
        yield { type: "progress", what: "accepted" };
        let text = false;
        let reasoning = false;
        let finish: string | undefined;
        for await (const piece of stream.pieces()) {
          switch (piece.type) {
            case "reasoning":
              reasoning = visible = true;
              yield { type: "reasoning", text: piece.text };
              break;
            case "text":
              text = visible = true;
              yield { type: "text", text: piece.text };
              break;
            case "usage":
              if (piece.completionTokens !== undefined) yield { type: "usage", outputTokens: piece.completionTokens };
              break;
            case "finish":
              finish = piece.reason;
              break;
          }
        }
        lease.succeed();
        if (!text) {
          // About this request's content, not the web id: no cool-down, no other entry.
          this.deps.report("empty_output", lease.id, "the console returned no visible answer");
          const what = reasoning ? "reasoning but no visible answer" : "no visible output";
          throw new TurnError(502, `the Volcengine console returned ${what} for this request; the web id is fine — rephrase the request or try again.`, "upstream_empty_output", undefined, "request");
        }
        return {
          contentFiltered: finish === "content_filter" || finish === "sensitive",
          truncated: finish === "length",
          empty: false,
          reasoningOnly: false,
          account: lease.id,
        };
      } catch (e) {
        if (!(e instanceof VolcengineError) || (signal.aborted && e.kind === "aborted")) throw e;
        this.deps.report(e.kind, lease.id, e.message);
        const f = classifyVolcengineError(e);
        if (f.class === "account") {
          lease.fail(f.verdict ?? "cooling", f.message);
          // Before anything was shown the request moves on to another entry; after, it ends here.
          if (!visible && !only) {
            failures.push(f);
            continue;
          }
        }
        throw failureToTurnError(f);
      } finally {
        lease.release();
      }
    }
  }
}
