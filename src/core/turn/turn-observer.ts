/**
 * Who ran a turn and how it ended, for the observers told about every business turn (usage counters,
 * metrics, upstream health, the admin "recent errors"). Lives in core so that those observers, which sit
 * below the HTTP surfaces, never import from them.
 */
import type { Usage } from "../usage/usage.ts";
import type { RawStreamTap } from "../upstream/provider.ts";
import type { FinishReason, TurnEvent, TurnRequest } from "./turn.ts";

/** Who is calling a business route: a configured API key (pooled accounts) or, when allowed, a direct upstream token. */
export type Caller =
  | { kind: "key"; key: string; id: string }
  | { kind: "direct"; token: string; id: string }
  /** No credential, allowed only on the Ollama routes from loopback when DS2API_OLLAMA_LOOPBACK_OPEN is on (pooled accounts, no key quota). */
  | { kind: "loopback"; id: string };

export interface TurnOutcomeInfo {
  caller: Caller;
  turn: TurnRequest;
  ms: number;
  usage?: Usage;
  finishReason?: FinishReason;
  /** Set when the turn failed (status of the error a client sees). */
  errorStatus?: number;
  errorCode?: string;
  /** The client went away before the end. */
  aborted?: boolean;
  /** The failure's message as the client sees it (no secrets: TurnErrors carry none). */
  errorMessage?: string;
}

/** A turn about to run: who, what, and the request path it came in on (e.g. `/v1/responses`). */
export interface TurnStartInfo {
  caller: Caller;
  turn: TurnRequest;
  route: string;
  /** The dev-capture tag the request carried (header `x-ds2-capture-tag`); only tags the capture issued count. */
  captureTag?: string;
}

/** Follows one turn: every event it yields, then how it ended. */
export interface TurnWatch {
  event(ev: TurnEvent): void;
  ended(info: TurnOutcomeInfo): void;
  /** Wants the raw upstream stream of the turn (dev capture; honoured by providers with `rawCapture`). */
  tap?: RawStreamTap;
}

export interface TurnObserver {
  turnEnded(info: TurnOutcomeInfo): void;
  /** Optional: follow the turn from its start (chat history); undefined = not interested in this one. */
  turnStarted?(info: TurnStartInfo): TurnWatch | undefined;
}
