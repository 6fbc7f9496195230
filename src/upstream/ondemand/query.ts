/**
 * One turn → the body of `POST /sessions/{id}/query` (other-providers.md §B.1.2, §B.1.3).
 *
 * How the conversation maps onto `query`: OnDemand takes one string per query. We send core's flattened prompt
 * as it is — the whole conversation in order (system, user, assistant turns, tool calls and tool results, with
 * core's DSML tool prompt when tools are declared), so tool calling works through the prompt and core's sieve.
 * Unlike the Go adapter we keep earlier assistant turns and never depend on a session's server-side history: a
 * reused session may or may not feed earlier queries back to the model (unconfirmed, §B.6), and each query is
 * self-contained either way.
 */
import type { UpstreamTurn } from "../../core/upstream/provider.ts";
import type { QueryBody } from "./client.ts";

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** OpenAI-style sampling fields → OnDemand `modelConfigs` (stop: at most 4 sequences, always an array). */
export function modelConfigsFrom(passthrough: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const temperature = num(passthrough.temperature);
  if (temperature !== undefined) out.temperature = Math.min(2, Math.max(0, temperature));
  const topP = num(passthrough.top_p);
  if (topP !== undefined) out.topP = Math.min(1, Math.max(0, topP));
  const maxTokens = num(passthrough.max_completion_tokens) ?? num(passthrough.max_tokens);
  if (maxTokens !== undefined) out.maxTokens = maxTokens;
  const presence = num(passthrough.presence_penalty);
  if (presence !== undefined) out.presencePenalty = presence;
  const frequency = num(passthrough.frequency_penalty);
  if (frequency !== undefined) out.frequencyPenalty = frequency;
  const stop = passthrough.stop;
  const stops = typeof stop === "string" ? [stop] : Array.isArray(stop) ? stop.filter((s): s is string => typeof s === "string") : [];
  if (stops.length) out.stopSequences = stops.slice(0, 4);
  return Object.keys(out).length ? out : undefined;
}

export function buildQuery(turn: UpstreamTurn, endpointId: string, mode: "stream" | "sync"): QueryBody {
  const modelConfigs = modelConfigsFrom(turn.passthrough);
  return {
    query: turn.prompt,
    endpointId,
    pluginIds: [],
    responseMode: mode,
    ...(modelConfigs ? { modelConfigs } : {}),
    // Which reasoning field OnDemand honours is unconfirmed (§B.6); reasoningMode is the documented one.
    ...(turn.thinking ? { reasoningMode: "medium" } : {}),
  };
}
