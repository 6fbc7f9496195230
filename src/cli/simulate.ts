/**
 * `ds2api --simulate`: the server in front of an in-process DeepSeek simulator, with a demo account and a
 * demo API key, so a newcomer can try every client without a DeepSeek account. Data lives in memory unless
 * --db / DS2API_DB_PATH names a file.
 */
import type { ServerOptions } from "../config/options.ts";
import { THINKING_INSTRUCTION_MARKER } from "../core/prompt/thinking-injection.ts";
import { startSimulator } from "../sim/index.ts";
import { startOnDemandSimulator } from "../sim/ondemand/index.ts";

export const DEMO_API_KEY = "sk-ds2api-demo";
const DEMO_ACCOUNT = { email: "demo@ds2api.local", password: "demo-password" };
/** The simulated OnDemand's one API key (models `ondemand/gpt-4o`, …). */
export const DEMO_ONDEMAND_KEY = "od-demo-key-0000000000000000";

export async function prepareSimulation(options: ServerOptions, dbExplicit: boolean): Promise<{ options: ServerOptions; stop(): Promise<void> }> {
  // A real (but small) proof of work keeps the whole path honest while staying instant.
  const sim = await startSimulator({ powDifficulty: 20000, accounts: [DEMO_ACCOUNT] });
  sim.state.setDefaultReply((ctx) => {
    // Show what the user typed, without the thinking-effort instruction ds2api appends for reasoning models.
    const said = ctx.lastUserText.split(THINKING_INSTRUCTION_MARKER)[0]!.trim().slice(0, 500);
    return {
      thinking: `The user wrote: "${said.slice(0, 200)}". This is the ds2api simulator, so I will answer with a demo reply.`,
      answer: `Hello from the ds2api simulator! You said: ${said}\n\nConnect real DeepSeek accounts in the admin console to get real answers.`,
      tokenDelayMs: 15,
    };
  });
  const ondemand = await startOnDemandSimulator({ keys: [DEMO_ONDEMAND_KEY] });
  ondemand.state.setDefaultReply(({ query, endpointId }) => ({
    answer: `Hello from the simulated OnDemand (${endpointId})! You said: ${query.split("<｜User｜>").at(-1)!.split("<｜Assistant｜>")[0]!.trim().slice(0, 500)}`,
    delayMs: 15,
  }));
  return {
    options: {
      ...options,
      deepseekBaseUrl: sim.url,
      ondemandApiBase: ondemand.apiBase,
      ondemandApiKeys: [DEMO_ONDEMAND_KEY],
      dbPath: dbExplicit ? options.dbPath : ":memory:",
      configJson: JSON.stringify({ keys: [DEMO_API_KEY], accounts: [DEMO_ACCOUNT] }),
    },
    stop: async () => {
      await sim.stop();
      await ondemand.stop();
    },
  };
}
