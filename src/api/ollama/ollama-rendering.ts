/**
 * How a turn is written back to an Ollama client, for both routes: `/api/chat` lines carry a `message`,
 * `/api/generate` lines a `response` (and `thinking`). NDJSON when streaming (no keep-alive lines: Ollama
 * clients parse every line as JSON), one object otherwise; a failure after the stream started is an
 * `{"error": …}` line, which the Ollama clients raise as an error.
 */
import type { ToolCallOut, TurnRequest } from "../../core/turn/turn.ts";
import type { TurnRendering } from "../serve-turn.ts";
import { describeFailure } from "../turn-errors.ts";
import { assistantMessage, createdAt, doneReason, OllamaClock } from "./ollama-response.ts";

export type OllamaRoute = "chat" | "generate";

/** The body of one line (or of the whole answer) for this route. */
function payload(route: OllamaRoute, content: string, thinking?: string, calls?: ToolCallOut[]): Record<string, unknown> {
  if (route === "chat") return { message: assistantMessage(content, thinking, calls) };
  return { response: content, ...(thinking ? { thinking } : {}) };
}

export function ollamaRendering(route: OllamaRoute, turn: TurnRequest, clock: OllamaClock): TurnRendering {
  const model = turn.model.requested;
  const head = () => ({ model, created_at: createdAt() });
  return {
    format: "ndjson",
    keepAlive: () => {},
    json: (r) => ({
      ...head(),
      ...payload(route, r.text, turn.exposeReasoning ? r.reasoning : undefined, r.toolCalls),
      done: true,
      done_reason: doneReason(r.finishReason),
      ...(route === "generate" ? { context: [] } : {}),
      ...clock.stats(r.usage, r.firstOutputAt),
    }),
    stream: (sink) => ({
      start: () => {},
      reasoning: (text) => {
        clock.output();
        sink.send({ ...head(), ...payload(route, "", text), done: false });
      },
      text: (text) => {
        clock.output();
        sink.send({ ...head(), ...payload(route, text), done: false });
      },
      toolCalls: (calls) => {
        clock.output();
        sink.send({ ...head(), ...payload(route, "", undefined, calls), done: false });
      },
      done: (ev) =>
        sink.send({
          ...head(),
          ...payload(route, ""),
          done: true,
          done_reason: doneReason(ev.finishReason),
          ...(route === "generate" ? { context: [] } : {}),
          ...clock.stats(ev.usage),
        }),
      error: (e) => sink.send({ error: describeFailure(e).message }),
    }),
  };
}

/** Ollama's answer to a request with nothing to say (no messages / empty prompt): the model is "loaded". */
export function loadedResponse(route: OllamaRoute, model: string, stream: boolean): Response {
  const body = { model, created_at: createdAt(), ...payload(route, ""), done: true, done_reason: "load" };
  const text = JSON.stringify(body) + (stream ? "\n" : "");
  return new Response(text, { headers: { "content-type": stream ? "application/x-ndjson" : "application/json" } });
}
