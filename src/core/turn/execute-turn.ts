/**
 * Runs one canonical turn: builds the prompt, streams the backend's events, holds back possible tool-call
 * markup (sieve), strips or renders citation markers, and ends with a `done` event carrying the finish
 * reason, usage and final texts. Failures are TurnErrors; surfaces decide how to render them.
 */
import { randomBytes } from "node:crypto";
import { buildCitationList, renderCitations, StreamingCitationStripper, type CitationContext, type CitationSourceInfo } from "../citations.ts";
import { buildPrompt, type ToolResultView } from "../prompt/build.ts";
import type { CanonicalToolCall } from "../prompt/message.ts";
import { buildHistoryTranscript, historyContinueMessages, shouldUseHistoryFile } from "../prompt/history-file.ts";
import { injectThinkingInstruction } from "../prompt/thinking-injection.ts";
import type { PromptMarkerStyle } from "../prompt/markers.ts";
import { selectTools, toolChoiceViolation } from "../toolcalls/normalize.ts";
import { ReasoningCallSieve } from "../toolcalls/reasoning-sieve.ts";
import type { SieveOutput, ToolChoice, ToolSpec } from "../toolcalls/types.ts";
import { countTokensAsync } from "../usage/tokenizer.ts";
import { usageFor } from "../usage/usage.ts";
import type { SearchSource } from "../upstream/provider.ts";
import type { ProviderLookup } from "../upstream/registry.ts";
import type { FinishReason, ToolCallOut, TurnEvent, TurnRequest } from "./turn.ts";
import { emptyOutputMessage, TurnError } from "./turn-error.ts";

/** The tool-calling pieces the executor needs (bound to src/core/toolcalls by the caller). */
export interface ToolKit {
  renderToolPrompt(tools: ToolSpec[], choice: ToolChoice): string;
  renderToolCalls(calls: CanonicalToolCall[]): string;
  renderToolResult(result: ToolResultView): string;
  createSieve(tools: ToolSpec[]): { push(delta: string): SieveOutput[]; end(): SieveOutput[] };
}

export interface TurnDeps {
  /** The upstream providers; the turn runs on the one serving its model. */
  providers: ProviderLookup;
  toolkit: ToolKit;
  /** The thinking-injection text (setting); undefined = built-in default. */
  thinkingInstruction?: string;
  /** Applies only to providers that accept an attached transcript. */
  historyFile?: HistoryFilePolicy;
  /** Role markers of the prompt (`prompt.markers`); undefined = native. */
  promptMarkers?: PromptMarkerStyle;
}

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString("hex")}`;
}

/** The tools a turn offers to the model (tool_choice applied); a choice naming undeclared tools is a 400. */
export function offeredTools(req: Pick<TurnRequest, "tools" | "toolChoice">): ToolSpec[] {
  const selection = selectTools(req.tools, req.toolChoice);
  if (!selection.ok) throw new TurnError(400, selection.error, "invalid_tool_choice");
  return selection.tools;
}

/** When the conversation goes to DeepSeek as an attached DS2API_HISTORY.txt instead of inline (§6.6). */
export interface HistoryFilePolicy {
  enabled: boolean;
  /** Go ds2api semantics: use the file when the latest user text has at least this many characters. */
  minChars?: number;
  /** Otherwise: use the file when the inline prompt would be longer than this. */
  promptChars: number;
}

export interface TurnPrompts {
  /** What is sent as `prompt`. */
  prompt: string;
  /** The transcript to upload and attach first in ref_file_ids, when the history file is used. */
  historyFile?: string;
  /** The text prompt tokens are counted on (transcript + "\n" + live prompt with a history file). */
  counted: string;
}

type PromptInput = Pick<TurnRequest, "messages" | "injectThinking" | "thinking" | "tools" | "toolChoice">;

export function buildTurnPrompts(req: PromptInput, deps: Pick<TurnDeps, "toolkit" | "thinkingInstruction" | "historyFile" | "promptMarkers">): TurnPrompts {
  const messages = req.injectThinking && req.thinking ? injectThinkingInstruction(req.messages, deps.thinkingInstruction) : req.messages;
  const tools = offeredTools(req);
  const toolPrompt = tools.length ? deps.toolkit.renderToolPrompt(tools, req.toolChoice) : undefined;
  const renderToolCalls = (calls: CanonicalToolCall[]) => deps.toolkit.renderToolCalls(calls);
  const markers = deps.promptMarkers;
  const inline = buildPrompt(messages, { toolPrompt, renderToolCalls, renderToolResult: (r) => deps.toolkit.renderToolResult(r), markers });
  const policy = deps.historyFile;
  const useFile = policy?.enabled && (policy.minChars ? shouldUseHistoryFile(messages, policy.minChars) : inline.length > policy.promptChars);
  if (!useFile) return { prompt: inline, counted: inline };
  const transcript = buildHistoryTranscript(messages, { renderToolCalls });
  const live = buildPrompt(historyContinueMessages(), { toolPrompt, markers });
  return { prompt: live, historyFile: transcript, counted: `${transcript}\n${live}` };
}

/** The inline prompt string of a turn (count_tokens counts what the model reads). */
export function promptForTurn(req: PromptInput, deps: Pick<TurnDeps, "toolkit" | "thinkingInstruction" | "promptMarkers">): string {
  return buildTurnPrompts(req, { ...deps, historyFile: undefined }).prompt;
}

/** Sent as an extra user message when the model answered without the call that tool_choice requires. */
export function correctiveInstruction(choice: ToolChoice): string {
  return choice.mode === "tool"
    ? `Your previous reply did not call the tool "${choice.name}". Call it now, using the required tool call format, and nothing else.`
    : "Your previous reply did not call any tool. You must call at least one of the available tools now, using the required tool call format.";
}

export async function* executeTurn(req: TurnRequest, deps: TurnDeps, signal: AbortSignal): AsyncGenerator<TurnEvent> {
  const tools = offeredTools(req);
  // tool_choice required / forced: text is held until a call shows up; without one there is one corrective retry.
  const mustCall = tools.length > 0 && (req.toolChoice.mode === "required" || req.toolChoice.mode === "tool");
  let promptTokens: number | undefined;
  const provider = deps.providers.forModel(req.model);
  const promptDeps = provider.acceptsTranscript ? deps : { ...deps, historyFile: undefined };
  for (let attempt = 0; ; attempt++) {
    const messages = attempt === 0 ? req.messages : [...req.messages, { role: "user", text: correctiveInstruction(req.toolChoice) }];
    const prompts = buildTurnPrompts({ ...req, messages }, promptDeps);
    // Counted in slices while the upstream request is under way; awaited (never blocking) at the first event.
    const promptCount = countTokensAsync(prompts.counted);
    const sieve = tools.length ? deps.toolkit.createSieve(tools) : undefined;
    // Call markup in the reasoning is kept out of the shown reasoning; its last block is the fallback call.
    const reasoningSieve = tools.length ? new ReasoningCallSieve(tools) : undefined;
    const stripper = req.stream ? new StreamingCitationStripper() : undefined;
    let reasoning = "";
    let shownReasoning = "";
    let rawText = "";
    let visibleText = "";
    let incompleteCall = false;
    const held: TurnEvent[] = [];
    const calls: ToolCallOut[] = [];
    const sources: CitationSourceInfo[] = [];
    const links: { marker: string; source?: CitationSourceInfo }[] = [];

    /** Sieve outputs → events (text through the citation stripper when streaming; held while a call is still owed). */
    function* emitSieved(outputs: SieveOutput[]): Generator<TurnEvent> {
      for (const out of outputs) {
        if (out.type === "tool_calls") {
          const batch = out.calls.map((c, i) => ({ ...c, id: newToolCallId(), index: calls.length + i }));
          calls.push(...batch);
          yield* held.splice(0);
          yield { type: "tool_calls", calls: batch };
          continue;
        }
        if (out.type === "incomplete_call") incompleteCall = true;
        visibleText += out.text;
        const text = stripper ? stripper.push(out.text) : out.text;
        if (!text) continue;
        if (mustCall && calls.length === 0) held.push({ type: "text", text });
        else yield { type: "text", text };
      }
    }

    /** Reasoning the client sees (when exposed), after the reasoning sieve. */
    function* emitReasoning(text: string): Generator<TurnEvent> {
      if (!text || !(req.exposeReasoning && req.thinking)) return;
      shownReasoning += text;
      yield { type: "reasoning", text };
    }

    const gen = provider.run(
      {
        model: req.model,
        prompt: prompts.prompt,
        messages: provider.input === "messages" ? messages : undefined,
        transcript: prompts.historyFile,
        thinking: req.thinking,
        passthrough: req.passthrough,
        callerId: req.callerId,
        directToken: req.directToken,
        pinnedAccount: req.pinnedAccount,
        attachments: req.attachments,
        refFileIds: req.refFileIds,
        vision: req.vision,
        tap: req.tap,
        answered: reasoningSieve ? () => reasoningSieve.calls.length > 0 : undefined,
      },
      signal,
    );

    let step = await gen.next();
    while (!step.done) {
      const ev = step.value;
      if (promptTokens === undefined) {
        promptTokens = await promptCount;
        yield { type: "started", promptTokens };
      }
      switch (ev.type) {
        case "reasoning":
          reasoning += ev.text;
          yield* emitReasoning(reasoningSieve ? reasoningSieve.push(ev.text) : ev.text);
          break;
        case "text":
          if (reasoningSieve) yield* emitReasoning(reasoningSieve.end());
          rawText += ev.text;
          yield* emitSieved(sieve ? sieve.push(ev.text) : [{ type: "text", text: ev.text }]);
          break;
        case "sources":
          for (const src of ev.sources) sources.push(toSourceInfo(src));
          break;
        case "citation":
          links.push({ marker: ev.marker, source: ev.source ? toSourceInfo(ev.source) : undefined });
          break;
        case "error":
          throw new TurnError(502, `upstream error: ${ev.message}`, "upstream_error");
      }
      step = await gen.next();
    }
    const outcome = step.value;
    if (reasoningSieve) yield* emitReasoning(reasoningSieve.end());
    if (sieve) yield* emitSieved(sieve.end());
    if (stripper) yield* flushStripper(stripper, mustCall && calls.length === 0 ? held : undefined);
    // No call in the answer: a call block written in the reasoning is the call (toolcalls.md §2.9).
    if (reasoningSieve?.calls.length && calls.length === 0 && !outcome.contentFiltered) yield* emitSieved([{ type: "tool_calls", calls: reasoningSieve.calls }]);

    if (outcome.empty && calls.length === 0) {
      // Request-attributable (the content comes back empty), not a rate limit: 502, no Retry-After, no cool-down.
      throw new TurnError(502, emptyOutputMessage(provider.displayName, outcome.reasoningOnly), "upstream_empty_output", undefined, "request");
    }
    if (mustCall && calls.length === 0 && !outcome.contentFiltered) {
      if (attempt === 0) continue;
      throw new TurnError(422, toolChoiceViolation(0, req.toolChoice) ?? "tool_choice requires a tool call", "tool_choice_violation");
    }
    yield* held.splice(0);
    const ctx: CitationContext = { links, sources };
    const finishReason: FinishReason = calls.length > 0 ? "tool_calls" : outcome.contentFiltered ? "content_filter" : outcome.truncated || incompleteCall ? "length" : "stop";
    yield {
      type: "done",
      finishReason,
      usage: usageFor({ promptTokens: promptTokens ?? (await promptCount), reasoning, text: rawText }),
      citations: req.model.search ? buildCitationList(visibleText, ctx) : [],
      text: req.stream ? visibleText : renderCitations(visibleText, ctx),
      reasoning: shownReasoning,
      account: outcome.account,
    };
    return;
  }
}

/** The stripper's held-back tail at the end of a stream (into `held` while a call is still owed). */
function* flushStripper(stripper: StreamingCitationStripper, held: TurnEvent[] | undefined): Generator<TurnEvent> {
  const tail = stripper.flush();
  if (!tail) return;
  if (held) held.push({ type: "text", text: tail });
  else yield { type: "text", text: tail };
}

function toSourceInfo(s: SearchSource): CitationSourceInfo {
  return { url: s.url, title: s.title, citeIndex: s.citeIndex };
}
