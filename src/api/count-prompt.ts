/**
 * count_tokens for every surface: the prompt-size limit, then the prompt the model would read, then its token
 * count. Large prompts let other requests run between the steps, so their costs do not add up in one stall.
 * The count itself runs in slices (countTokensAsync), never blocking the event loop for long.
 */
import { promptForTurn, type TurnDeps } from "../core/turn/execute-turn.ts";
import type { TurnRequest } from "../core/turn/turn.ts";
import { countTokensAsync } from "../core/usage/tokenizer.ts";
import { yieldToLoop } from "./event-loop.ts";
import { checkPromptSize } from "./prompt-limit.ts";

/** Above this many characters the steps are separated by a trip through the event loop. */
const LARGE_PROMPT_CHARS = 100_000;

export async function countPromptTokens(turn: TurnRequest, deps: Pick<TurnDeps, "toolkit" | "thinkingInstruction" | "promptMarkers">, maxPromptChars: number): Promise<number> {
  const large = checkPromptSize(turn, maxPromptChars) > LARGE_PROMPT_CHARS;
  if (large) await yieldToLoop();
  const prompt = promptForTurn(turn, deps);
  if (large) await yieldToLoop();
  return await countTokensAsync(prompt);
}
