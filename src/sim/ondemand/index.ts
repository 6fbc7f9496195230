/** Public surface of the OnDemand simulator. */
export { startOnDemandSimulator, OD_BASE_PATH, type RunningOnDemandSim } from "./server.ts";
export { OdSimState, SIM_ENDPOINTS, type OdReplyScript, type OdReplyResolver, type OdFault, type OdRequestRecord, type OdSession, type OdSimOptions, type OdStall } from "./state.ts";
