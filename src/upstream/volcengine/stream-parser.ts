/**
 * The Volcengine console's chat stream, line by line → reasoning / answer / finish / usage (other-providers.md
 * §A.2). Inferred, not captured: OpenAI chunk shape (`choices[0].delta.content`, `reasoning_content`,
 * `finish_reason`, `usage`, `data: [DONE]`) with PascalCase variants (`Choices`, `Delta`, `Content`,
 * `ReasoningContent`, `FinishReason`, `Usage`) and an optional `Result` wrapper. An error object on a data
 * line (`ResponseMetadata.Error` or `error`) is an in-stream error. Correct this file once a capture exists.
 */
import { envelopeError, errorKind, redact, VolcengineError } from "./errors.ts";

export type StreamPiece =
  | { type: "reasoning"; text: string }
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; promptTokens?: number; completionTokens?: number; reasoningTokens?: number };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A field by its snake / camel / Pascal names. */
function pick(o: Obj, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** State of one stream: whether it ended properly. */
export class ChatStreamParser {
  /** `[DONE]` was seen. */
  done = false;
  /** A finish reason was seen. */
  finishReason?: string;
  /** Any data line was understood. */
  sawData = false;

  constructor(private readonly secrets: readonly string[] = []) {}

  /** One SSE line (without its line break) → pieces; throws a VolcengineError on an error line or garbage. */
  line(raw: string): StreamPiece[] {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith(":")) return [];
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field === "event" || field === "id" || field === "retry") return [];
    if (field !== "data") {
      // A bare JSON line (some gateways drop the `data:` prefix) is read like a data line.
      if (line.trimStart().startsWith("{")) return this.data(line.trim());
      throw new VolcengineError("protocol", `the Volcengine console sent a line that is not part of an event stream: ${JSON.stringify(redact(line, this.secrets).slice(0, 80))}`, { reason: "malformed_stream" });
    }
    const value = line.slice(colon + 1).replace(/^ /, "");
    return this.data(value.trim());
  }

  private data(value: string): StreamPiece[] {
    if (value === "") return [];
    if (value === "[DONE]") {
      this.done = true;
      return [];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new VolcengineError("protocol", `the Volcengine console sent a data line that is not JSON: ${JSON.stringify(redact(value, this.secrets).slice(0, 80))}`, { reason: "malformed_stream" });
    }
    if (!isObj(parsed)) throw new VolcengineError("protocol", "the Volcengine console sent a data line that is not a JSON object", { reason: "malformed_stream" });
    const err = envelopeError(parsed);
    if (err) {
      const meta = isObj(parsed.ResponseMetadata) ? parsed.ResponseMetadata : undefined;
      const status = num(pick(parsed, "status", "Status", "status_code")) ?? num(meta?.HTTPCode);
      const kind = errorKind(err.code, err.message, status);
      throw new VolcengineError(kind, `the Volcengine console reported an error in the stream: ${err.code ? `${err.code}: ` : ""}${redact(err.message, this.secrets)}`, { code: err.code, httpStatus: status, inStream: true });
    }
    const chunk = isObj(parsed.Result) ? parsed.Result : parsed;
    const out: StreamPiece[] = [];
    const choices = pick(chunk, "choices", "Choices");
    const first = Array.isArray(choices) && isObj(choices[0]) ? choices[0] : undefined;
    if (first) {
      const delta = pick(first, "delta", "Delta", "message", "Message");
      if (isObj(delta)) {
        const reasoning = pick(delta, "reasoning_content", "ReasoningContent", "reasoningContent");
        if (typeof reasoning === "string" && reasoning !== "") out.push({ type: "reasoning", text: reasoning });
        const content = pick(delta, "content", "Content");
        if (typeof content === "string" && content !== "") out.push({ type: "text", text: content });
      }
      const finish = pick(first, "finish_reason", "FinishReason", "finishReason");
      if (typeof finish === "string" && finish !== "") {
        this.finishReason = finish;
        out.push({ type: "finish", reason: finish });
      }
    }
    const finishTop = pick(chunk, "FinishReason", "finish_reason");
    if (typeof finishTop === "string" && finishTop !== "" && this.finishReason === undefined) {
      this.finishReason = finishTop;
      out.push({ type: "finish", reason: finishTop });
    }
    const usage = pick(chunk, "usage", "Usage");
    if (isObj(usage)) {
      const details = pick(usage, "completion_tokens_details", "CompletionTokensDetails");
      out.push({
        type: "usage",
        promptTokens: num(pick(usage, "prompt_tokens", "PromptTokens")),
        completionTokens: num(pick(usage, "completion_tokens", "CompletionTokens")),
        reasoningTokens: isObj(details) ? num(pick(details, "reasoning_tokens", "ReasoningTokens")) : undefined,
      });
    }
    if (!Array.isArray(choices) && !isObj(usage) && finishTop === undefined) {
      throw new VolcengineError("protocol", `the Volcengine console sent a data line of an unknown shape (keys: ${Object.keys(parsed).slice(0, 6).join(", ") || "none"})`, { reason: "malformed_stream" });
    }
    this.sawData = true;
    return out;
  }

  /** At the end of the body: an error when the stream never finished properly. */
  end(): void {
    if (this.done || this.finishReason !== undefined) return;
    if (!this.sawData) throw new VolcengineError("protocol", "the Volcengine console closed the stream without sending anything", { reason: "empty_stream" });
    throw new VolcengineError("protocol", "the Volcengine console stream ended before it finished (no finish reason, no [DONE])", { reason: "truncated_stream" });
  }
}
