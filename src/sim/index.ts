/** Public surface of the DeepSeek web simulator. */
export { startSimulator, PATHS, type RunningSimulator } from "./server.ts";
export { SimState, MAGIC_CAPTURED_DEVICE, type SimOptions, type SimAccountInput, type RequestLogEntry, type StreamRecord, type SimSession, type SimFile } from "./state.ts";
export {
  type ReplyScript, type ReplyResolver, type ReplyContext, type SearchScript, type SimSource, type Chunking,
  chunkText, defaultReply, describeRefFiles, lastUserText, toolCallMarkup, DEFAULT_TIP, TEMPLATE_REFUSAL,
} from "./reply-script.ts";
export { SIM_ERRORS, challengePage, type InjectedError } from "./envelope.ts";
export { ReferencePowSolver } from "./reference-solver.ts";
export { splitReplayRounds } from "./replay.ts";
export { runSimCommand } from "./command.ts";
