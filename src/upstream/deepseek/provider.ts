/**
 * DeepSeek web chat as an `UpstreamProvider`: wraps the `Engine` (PoW pool, web clients, token manager,
 * account pool, turn backend) behind the provider-neutral contract of core.
 */
import type { ModelSpec } from "../../core/models/native.ts";
import type {
  AccountAdmin,
  ClientIdentityView,
  TransportView,
  ProofOfWorkStats,
  FileUploadAdmin,
  ProviderStatus,
  ProxyAdmin,
  UpstreamErrorListener,
  UpstreamFile,
  UpstreamEvent,
  UpstreamOutcome,
  UpstreamProvider,
  UpstreamTurn,
} from "../../core/upstream/provider.ts";
import { deleteDeepSeekSessions } from "./account-sessions.ts";
import { testDeepSeekAccount } from "./account-test.ts";
import { Engine, type EngineDeps } from "./engine.ts";
import { toUpstreamEvent } from "./events.ts";
import { isFilePending, isFileReady, type UploadedFile } from "./upload-file.ts";
import { DEEPSEEK_PROVIDER_ID, deepSeekFlags, deepSeekModels } from "./models.ts";

/** The `model_type` that reads images (upstream-protocol §5.1). */
const VISION_MODEL_TYPE = "vision";

function toUpstreamFile(f: UploadedFile, account: string | undefined, sent?: { filename: string; data: Uint8Array }): UpstreamFile {
  const status = isFileReady(f.status) ? "processed" : isFilePending(f.status) ? "pending" : "error";
  return { id: f.id, filename: f.name ?? sent?.filename ?? "upload.bin", bytes: f.size ?? sent?.data.length ?? 0, status, account };
}

/** The outcome handed to the backend when the consumer stops a turn early (never reaches a client). */
const STOPPED: UpstreamOutcome = { contentFiltered: false, truncated: false, empty: false, reasoningOnly: false };

export class DeepSeekProvider implements UpstreamProvider {
  readonly id = DEEPSEEK_PROVIDER_ID;
  readonly displayName = "DeepSeek web chat";
  readonly input = "prompt";
  readonly toolCalls = "text";
  /** Long conversations go as an uploaded DS2API_HISTORY.txt (current_input_file, §6.6). */
  readonly acceptsTranscript = true;
  readonly engine: Engine;
  readonly accounts: AccountAdmin;
  readonly proxies: ProxyAdmin;
  readonly files: FileUploadAdmin;
  readonly rawCapture = true;

  constructor(deps: EngineDeps) {
    const engine = new Engine(deps);
    this.engine = engine;
    this.accounts = {
      status: () => engine.pool.status(),
      settings: () => engine.poolSettings(),
      inflightOf: (id) => engine.pool.inflightOf(id),
      markHealthy: (id) => engine.pool.markHealthy(id),
      markFailing: (id, kind, message) => engine.pool.markFailing(id, kind, message),
      // Admin paths: the device id as stored now (an operator may just have changed it), not as the pool last loaded it.
      test: async (account, model, message) =>
        testDeepSeekAccount(
          {
            client: engine.client(account.identifier),
            saveToken: (id, token) => engine.tokens.store(id, token),
            deviceId: await engine.deviceIdOf(account.identifier, await deps.store.accounts.get(account.identifier)),
            markState: (kind, text) => engine.pool.markFailing(account.identifier, kind, text),
          },
          account,
          model,
          message,
        ),
      deleteSessions: async (account) => {
        const deviceId = await engine.deviceIdOf(account.identifier, await deps.store.accounts.get(account.identifier));
        const outcome = await deleteDeepSeekSessions({ client: engine.client(account.identifier), saveToken: (id, token) => engine.tokens.store(id, token), deviceId }, account);
        if (outcome.ok) engine.sessions.forget(account.identifier);
        return outcome;
      },
      refresh: (ids) => engine.pool.refresh(ids),
    };
    this.proxies = { retain: (ids) => engine.proxies.retain(new Set(ids)) };
    this.files = {
      upload: async (req, signal) => {
        const { file, account } = await engine.backend.upload(
          { data: req.data, filename: req.filename, contentType: req.mediaType, modelType: req.modelType, directToken: req.directToken, pinnedAccount: req.pinnedAccount },
          signal,
        );
        return toUpstreamFile(file, account, req);
      },
      get: async (id, where, signal) => {
        const file = await engine.backend.fetchFile(id, where, signal);
        return file ? toUpstreamFile(file, where.account) : undefined;
      },
    };
  }

  models(): readonly ModelSpec[] {
    return deepSeekModels();
  }

  async *run(turn: UpstreamTurn, signal: AbortSignal): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    const flags = deepSeekFlags(turn.model);
    const gen = this.engine.backend.run(
      {
        prompt: turn.prompt,
        historyFile: turn.transcript,
        modelType: turn.vision ? VISION_MODEL_TYPE : flags.modelType,
        thinking: turn.thinking,
        search: flags.searchEnabled,
        passthrough: turn.passthrough,
        callerId: turn.callerId,
        directToken: turn.directToken,
        pinnedAccount: turn.pinnedAccount,
        attachments: turn.attachments,
        refFileIds: turn.refFileIds,
        answered: turn.answered,
        tap: turn.tap,
      },
      signal,
    );
    let finished = false;
    try {
      for (;;) {
        const step = await gen.next();
        if (step.done) {
          finished = true;
          return step.value;
        }
        yield toUpstreamEvent(step.value);
      }
    } finally {
      // Stopped early by the consumer: let the backend unwind (its lease release and clean-up run in its finally blocks).
      if (!finished) await gen.return(STOPPED);
    }
  }

  onUpstreamError(listener: UpstreamErrorListener): void {
    this.engine.upstreamErrorListeners.push(listener);
  }

  powStats(): ProofOfWorkStats | undefined {
    return this.engine.powStats();
  }

  transport(): TransportView {
    return this.engine.transportState();
  }

  identity(): ClientIdentityView {
    return this.engine.client().identity;
  }

  status(): ProviderStatus {
    return { id: this.id, models: this.models().length, accounts: this.engine.pool.status() };
  }

  /** At start, before the server answers: accounts, proxies and the deletions the last run owed. */
  init(): Promise<void> {
    return this.engine.init();
  }

  reload(): Promise<void> {
    return this.engine.reload();
  }

  warmup(): void {
    this.engine.warmup();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
