/** Reads a server-sent-event stream and turns each surface's events into reasoning / answer pieces. */

export type Surface = "openai" | "anthropic" | "gemini";

export interface SseEvent {
  event: string;
  data: string;
}

/** Yields each complete SSE event from a byte stream (comments and keep-alives are skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let event = "";
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
    if (done && buf) buf += "\n"; // a last line without its newline still counts
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (data.length) yield { event: event || "message", data: data.join("\n") };
        event = "";
        data = [];
      } else if (line.startsWith(":")) continue;
      else {
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (name === "data") data.push(val);
        else if (name === "event") event = val;
      }
    }
    if (done) break;
  }
  if (data.length) yield { event: event || "message", data: data.join("\n") };
}

export interface Piece {
  reasoning?: string;
  answer?: string;
  /** A readable error carried inside the stream. */
  error?: string;
  done?: boolean;
}

function errorText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.message === "string") return o.message;
    if (typeof o.detail === "string") return o.detail;
  }
  return "stream error";
}

/** Interprets one event of the chosen surface's stream. */
export function pieceOf(surface: Surface, ev: SseEvent): Piece {
  if (ev.data === "[DONE]") return { done: true };
  let json: Record<string, any>;
  try {
    json = JSON.parse(ev.data);
  } catch {
    return {};
  }
  if (json.error) return { error: errorText(json.error) };
  if (json.detail && typeof json.detail === "string") return { error: json.detail };
  switch (surface) {
    case "openai": {
      const delta = json.choices?.[0]?.delta ?? {};
      return { reasoning: delta.reasoning_content || undefined, answer: delta.content || undefined };
    }
    case "anthropic": {
      if (json.type === "message_stop") return { done: true };
      if (json.type === "content_block_delta") {
        const d = json.delta ?? {};
        if (d.type === "thinking_delta") return { reasoning: d.thinking };
        if (d.type === "text_delta") return { answer: d.text };
      }
      return {};
    }
    case "gemini": {
      const out: Piece = {};
      for (const part of json.candidates?.[0]?.content?.parts ?? []) {
        if (typeof part.text !== "string") continue;
        if (part.thought) out.reasoning = (out.reasoning ?? "") + part.text;
        else out.answer = (out.answer ?? "") + part.text;
      }
      return out;
    }
  }
}
