/**
 * A fake upstream provider with a key-style credential pool over `store.credentials`, for the generic
 * provider-pool admin routes and console page. It serves no turns. Test behaviour by secret:
 * - a secret starting with "bad" fails its test ("rejected") and becomes `bad`;
 * - a secret containing "leak" fails its test with a message that quotes the secret (the admin API must mask it);
 * - any other secret passes its test.
 * `importText` takes one entry a line: `secret[,label[,max_usage]]`; `#` comments and blank lines are ignored.
 */
import type { ModelSpec } from "../../src/core/models/native.ts";
import { TurnError } from "../../src/core/turn/turn-error.ts";
import type {
  CredentialEntryInput,
  CredentialImportResult,
  CredentialPoolAdmin,
  CredentialPoolStatus,
  CredentialView,
  ProviderStatus,
  UpstreamEvent,
  UpstreamOutcome,
  UpstreamProvider,
} from "../../src/core/upstream/provider.ts";
import type { CredentialRecord } from "../../src/store/credentials-repo.ts";
import type { StoreApi } from "../../src/store/store-api.ts";

export const FAKE_POOL_ID = "fakepool";

class FakePool implements CredentialPoolAdmin {
  readonly entryKind = "api_key";
  store?: StoreApi;
  /** The entries as last read (after every call of this admin), for the synchronous `status()`. */
  private records: CredentialRecord[] = [];
  /** Provider-wide cap (0 = unlimited). */
  maxUsage = 0;
  readonly inflight = new Map<string, number>();

  private repo() {
    if (!this.store) throw new Error("fake pool provider is not bound to a store yet");
    return this.store.credentials;
  }

  private view(r: CredentialRecord): CredentialView {
    const maxUsage = r.maxUsage ?? this.maxUsage;
    const state: CredentialView["state"] = !r.enabled ? "disabled" : r.state !== "ok" ? r.state : maxUsage > 0 && r.usageCount >= maxUsage ? "exhausted" : "ok";
    return {
      id: r.id,
      preview: r.preview,
      ...(r.label ? { label: r.label } : {}),
      enabled: r.enabled,
      state,
      ...(r.stateReason ? { stateReason: r.stateReason } : {}),
      usage: r.usageCount,
      maxUsage,
      inflight: this.inflight.get(r.id) ?? 0,
      ...(r.cooldownUntil ? { cooldownUntil: r.cooldownUntil } : {}),
      ...(r.lastUsedAt ? { lastUsedAt: r.lastUsedAt } : {}),
      ...(r.lastError ? { lastError: r.lastError } : {}),
      hasOwnAuth: r.auth !== undefined,
    };
  }

  /** Re-read the entries into the snapshot `status()` serves. */
  private async refresh(): Promise<CredentialView[]> {
    this.records = await this.repo().list(FAKE_POOL_ID);
    return this.records.map((r) => this.view(r));
  }

  async list(): Promise<CredentialView[]> {
    return this.refresh();
  }

  async add(entries: CredentialEntryInput[]): Promise<CredentialImportResult> {
    const out: CredentialImportResult = { added: 0, updated: 0, skipped: [] };
    for (const e of entries) {
      if (e.secret.length < 6) {
        out.skipped.push({ entry: "****", reason: "too short to be an API key" });
        continue;
      }
      const { created } = await this.repo().upsert(FAKE_POOL_ID, { secret: e.secret, auth: e.auth, label: e.label, maxUsage: e.maxUsage });
      if (created) out.added++;
      else out.updated++;
    }
    await this.refresh();
    return out;
  }

  async importText(text: string): Promise<CredentialImportResult> {
    const entries: CredentialEntryInput[] = [];
    const skipped: CredentialImportResult["skipped"] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const [secret = "", label, max] = line.split(",").map((x) => x.trim());
      if (max !== undefined && !/^\d+$/.test(max)) {
        skipped.push({ entry: `line ${i + 1}`, reason: `max_usage ${JSON.stringify(max)} is not a number` });
        return;
      }
      entries.push({ secret, ...(label ? { label } : {}), ...(max !== undefined ? { maxUsage: Number(max) } : {}) });
    });
    const r = await this.add(entries);
    return { ...r, skipped: [...skipped, ...r.skipped] };
  }

  async update(id: string, fields: { label?: string | null; maxUsage?: number | null }): Promise<boolean> {
    return this.afterWrite(this.repo().updateProfile(FAKE_POOL_ID, id, fields));
  }

  async setEnabled(id: string, enabled: boolean): Promise<boolean> {
    return this.afterWrite(this.repo().setEnabled(FAKE_POOL_ID, id, enabled));
  }

  async remove(id: string): Promise<boolean> {
    return this.afterWrite(this.repo().remove(FAKE_POOL_ID, id));
  }

  async resetUsage(id?: string): Promise<number> {
    return this.afterWrite(this.repo().resetUsage(FAKE_POOL_ID, id));
  }

  /** A write's result, once the snapshot has been re-read after it. */
  private async afterWrite<T>(write: Promise<T>): Promise<T> {
    const result = await write;
    await this.refresh();
    return result;
  }

  async test(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    try {
      return await this.probe(id);
    } finally {
      await this.refresh();
    }
  }

  private async probe(id: string): Promise<{ ok: boolean; message: string; text?: string }> {
    const r = await this.repo().get(FAKE_POOL_ID, id);
    if (!r) return { ok: false, message: "no such entry" };
    await this.repo().recordUse(FAKE_POOL_ID, id);
    if (r.secret.startsWith("bad")) {
      await this.repo().setState(FAKE_POOL_ID, id, "bad", "rejected by the upstream (401)");
      await this.repo().recordError(FAKE_POOL_ID, id, "401 invalid api key");
      return { ok: false, message: "rejected by the upstream (401)" };
    }
    if (r.secret.includes("leak")) {
      await this.repo().recordError(FAKE_POOL_ID, id, `upstream said: key ${r.secret} is not valid`);
      return { ok: false, message: `upstream said: key ${r.secret} is not valid` };
    }
    await this.repo().setState(FAKE_POOL_ID, id, "ok");
    return { ok: true, message: "ok", text: "pong" };
  }

  /** From the snapshot read by the last call of this admin (every write and `list()` re-read it). */
  status(): CredentialPoolStatus {
    const views = this.records.map((r) => this.view(r));
    const n = (s: CredentialView["state"]) => views.filter((v) => v.state === s).length;
    return { total: views.length, usable: n("ok"), exhausted: n("exhausted"), bad: n("bad"), cooling: n("cooling"), disabled: n("disabled"), inUse: views.reduce((a, v) => a + v.inflight, 0) };
  }
}

export class FakePoolProvider implements UpstreamProvider {
  readonly id = FAKE_POOL_ID;
  readonly displayName = "Fake pool";
  readonly input = "prompt" as const;
  readonly toolCalls = "text" as const;
  readonly acceptsTranscript = false;
  readonly credentials = new FakePool();

  /** The store is opened by startServer: bind it once the server runs. */
  bind(store: StoreApi): this {
    this.credentials.store = store;
    return this;
  }

  models(): readonly ModelSpec[] {
    return [{ id: "fake-model", provider: FAKE_POOL_ID, modelType: "default", thinkingDefault: false, thinkingForcedOff: false, search: false }];
  }

  configured(): boolean {
    return this.credentials.status().usable > 0;
  }

  // eslint-disable-next-line require-yield
  async *run(): AsyncGenerator<UpstreamEvent, UpstreamOutcome> {
    throw new TurnError(503, "the fake pool provider serves no turns", "provider_unavailable");
  }

  onUpstreamError(): void {}

  status(): ProviderStatus {
    return { id: this.id, models: 1, credentials: this.credentials.status() };
  }

  reload(): void {}

  async close(): Promise<void> {}
}
