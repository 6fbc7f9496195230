/** Public surface of the fake Volcengine Ark console. */
export { startVolcengineSimulator, VOLC_CHAT_PATH, type RunningVolcSimulator } from "./server.ts";
export { VolcSimState, DEFAULT_QUOTA_ERROR, SIM_MODELS, type VolcSimOptions, type VolcReply, type VolcReplyContext, type VolcReplyResolver, type VolcFault, type VolcRequestRecord, type QuotaErrorShape } from "./state.ts";
