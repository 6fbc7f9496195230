/**
 * `ds2api --simulate`: the server in front of an in-process DeepSeek simulator, with a demo account and a
 * demo API key, so a newcomer can try every client without a DeepSeek account. Data lives in memory unless
 * --db / DS2API_DB_PATH names a file.
 */
import type { ServerOptions } from "../config/options.ts";
import { THINKING_INSTRUCTION_MARKER } from "../core/prompt/thinking-injection.ts";
import { lastUserBlock } from "../core/prompt/markers.ts";
import { describeRefFiles, startSimulator } from "../sim/index.ts";
import { startOnDemandSimulator } from "../sim/ondemand/index.ts";
import { startVolcengineSimulator } from "../sim/volcengine/index.ts";

export const DEMO_API_KEY = "sk-ds2api-demo";
const DEMO_ACCOUNT = { email: "demo@ds2api.local", password: "demo-password" };
/** The demo Volcengine web id and authorization (the fake console accepts only these). */
const DEMO_WEB_ID = "7400000000000000000";
const DEMO_VOLC_AUTH = "Bearer ds2api-demo-volcengine";
/** The simulated OnDemand's one API key (models `ondemand/gpt-4o`, …). */
export const DEMO_ONDEMAND_KEY = "od-demo-key-0000000000000000";

export async function prepareSimulation(options: ServerOptions, dbExplicit: boolean): Promise<{ options: ServerOptions; stop(): Promise<void> }> {
  // A real (but small) proof of work keeps the whole path honest while staying instant.
  const sim = await startSimulator({ powDifficulty: 20000, accounts: [DEMO_ACCOUNT], magicAccounts: true });
  sim.state.setDefaultReply((ctx) => {
    // Show what the user typed, without the thinking-effort instruction ds2api appends for reasoning models.
    const said = ctx.lastUserText.split(THINKING_INSTRUCTION_MARKER)[0]!.trim().slice(0, 500);
    return {
      thinking: `The user wrote: "${said.slice(0, 200)}". This is the ds2api simulator, so I will answer with a demo reply.`,
      answer: `Hello from the ds2api simulator! ${describeRefFiles(ctx)}You said: ${said}\n\nConnect real DeepSeek accounts in the admin console to get real answers.`,
      tokenDelayMs: 15,
    };
  });
  const ondemand = await startOnDemandSimulator({ keys: [DEMO_ONDEMAND_KEY] });
  ondemand.state.setDefaultReply(({ query, endpointId }) => ({
    answer: `Hello from the simulated OnDemand (${endpointId})! You said: ${lastUserBlock(query).slice(0, 500)}`,
    delayMs: 15,
  }));
  const volc = await startVolcengineSimulator({ webIds: [DEMO_WEB_ID], authorization: DEMO_VOLC_AUTH });
  volc.state.setDefaultReply((ctx) => {
    const said = lastUserBlock(ctx.lastUserText).split(THINKING_INSTRUCTION_MARKER)[0]!.trim().slice(0, 500);
    return {
      reasoning: ctx.model === "deepseek-r1-1" ? `The user wrote: "${said.slice(0, 200)}". This is the Volcengine console simulator.` : undefined,
      answer: `Hello from the Volcengine console simulator (${ctx.model})! You said: ${said}\n\nAdd real web ids (VOLCENGINE_X_WEB_ID) to get real answers.`,
      tokenDelayMs: 15,
    };
  });
  return {
    options: {
      ...options,
      deepseekBaseUrl: sim.url,
      ondemandApiBase: ondemand.apiBase,
      ondemandApiKeys: [DEMO_ONDEMAND_KEY],
      volcengine: { apiUrl: volc.chatUrl, webIds: [DEMO_WEB_ID], authorization: DEMO_VOLC_AUTH },
      dbPath: dbExplicit ? options.dbPath : ":memory:",
      configJson: JSON.stringify({ keys: [DEMO_API_KEY], accounts: [DEMO_ACCOUNT] }),
    },
    stop: async () => {
      await Promise.all([sim.stop(), ondemand.stop(), volc.stop()]);
    },
  };
}
