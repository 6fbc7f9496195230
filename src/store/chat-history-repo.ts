/**
 * Chat history (§12.6): one row per business turn, newest kept up to a limit. The summary lives in columns,
 * the conversation (messages, prompt, reasoning, answer, tool calls, usage, error) as one JSON document.
 * Every write bumps one stored list revision; a row keeps the revision of its last write (ETags) and, in `seq`, the
 * revision of its insert: newest first is `created_at DESC, seq DESC` (portable: no rowid).
 */
import type { SqlExecutor } from "./sql/executor.ts";

export type ChatHistoryStatus = "streaming" | "success" | "error" | "stopped";

export interface ChatHistorySummary {
  id: string;
  revision: number;
  created_at: number;
  updated_at: number;
  completed_at?: number;
  status: ChatHistoryStatus;
  caller_id?: string;
  account_id?: string;
  provider?: string;
  surface?: string;
  model?: string;
  stream: boolean;
  user_input?: string;
  preview?: string;
  status_code?: number;
  elapsed_ms?: number;
  finish_reason?: string;
  detail_revision: number;
}

export interface ChatHistoryDetail {
  messages: { role: string; content: string; tool_calls?: unknown[]; images?: number; files?: number }[];
  history_text: string;
  final_prompt: string;
  reasoning_content: string;
  content: string;
  tool_calls: unknown[];
  error: string;
  usage: Record<string, unknown> | null;
  first_output_ms?: number;
}

export type ChatHistoryItem = ChatHistorySummary & ChatHistoryDetail;

export interface ChatHistoryStart {
  id: string;
  at: number;
  caller_id?: string;
  provider?: string;
  surface?: string;
  model?: string;
  stream: boolean;
  user_input?: string;
  detail: ChatHistoryDetail;
}

export interface ChatHistoryEnd {
  at: number;
  status: Exclude<ChatHistoryStatus, "streaming">;
  account_id?: string;
  status_code?: number;
  elapsed_ms: number;
  finish_reason?: string;
  preview?: string;
  detail: Partial<ChatHistoryDetail>;
}

interface Row {
  id: string;
  revision: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  status: string;
  caller_id: string | null;
  account_id: string | null;
  provider: string | null;
  surface: string | null;
  model: string | null;
  stream: number;
  user_input: string | null;
  preview: string | null;
  status_code: number | null;
  elapsed_ms: number | null;
  finish_reason: string | null;
  detail: string;
}

const SUMMARY_COLUMNS =
  "id, revision, created_at, updated_at, completed_at, status, caller_id, account_id, provider, surface, model, stream, user_input, preview, status_code, elapsed_ms, finish_reason";

function toSummary(r: Omit<Row, "detail">): ChatHistorySummary {
  const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);
  return {
    id: r.id,
    revision: r.revision,
    created_at: r.created_at,
    updated_at: r.updated_at,
    completed_at: opt(r.completed_at),
    status: r.status as ChatHistoryStatus,
    caller_id: opt(r.caller_id),
    account_id: opt(r.account_id),
    provider: opt(r.provider),
    surface: opt(r.surface),
    model: opt(r.model),
    stream: r.stream === 1,
    user_input: opt(r.user_input),
    preview: opt(r.preview),
    status_code: opt(r.status_code),
    elapsed_ms: opt(r.elapsed_ms),
    finish_reason: opt(r.finish_reason),
    detail_revision: r.revision,
  };
}

export class ChatHistoryRepo {
  constructor(private readonly x: SqlExecutor) {}

  /** The list revision (bumped by every write). */
  async revision(): Promise<number> {
    return (await this.x.get<{ rev: number }>("SELECT rev FROM chat_history_rev WHERE id = 1"))?.rev ?? 0;
  }

  private async bump(tx: SqlExecutor): Promise<number> {
    const row = await tx.get<{ rev: number }>("UPDATE chat_history_rev SET rev = rev + 1 WHERE id = 1 RETURNING rev");
    if (!row) throw new Error("chat_history_rev has no row (schema not migrated)");
    return row.rev;
  }

  /** A new entry in `streaming` state; the oldest entries beyond `limit` are pruned. */
  async start(entry: ChatHistoryStart, limit: number): Promise<void> {
    await this.x.transaction(async (tx) => {
      const rev = await this.bump(tx);
      await tx.run(
        `INSERT INTO chat_history(id, revision, seq, created_at, updated_at, status, caller_id, provider, surface, model, stream, user_input, detail)
         VALUES(?, ?, ?, ?, ?, 'streaming', ?, ?, ?, ?, ?, ?, ?)`,
        [
          entry.id,
          rev,
          rev,
          entry.at,
          entry.at,
          entry.caller_id ?? null,
          entry.provider ?? null,
          entry.surface ?? null,
          entry.model ?? null,
          entry.stream ? 1 : 0,
          entry.user_input ?? null,
          JSON.stringify(entry.detail),
        ],
      );
      await this.pruneTo(tx, limit);
    });
  }

  /** The end of a turn; false when the entry is gone (deleted or pruned meanwhile). */
  finish(id: string, end: ChatHistoryEnd): Promise<boolean> {
    return this.x.transaction(async (tx) => {
      const row = await tx.get<{ detail: string }>("SELECT detail FROM chat_history WHERE id = ?", [id]);
      if (!row) return false;
      const detail = { ...(JSON.parse(row.detail) as ChatHistoryDetail), ...end.detail };
      const rev = await this.bump(tx);
      await tx.run(
        `UPDATE chat_history SET revision = ?, updated_at = ?, completed_at = ?, status = ?, account_id = ?, status_code = ?, elapsed_ms = ?, finish_reason = ?, preview = ?, detail = ?
         WHERE id = ?`,
        [rev, end.at, end.at, end.status, end.account_id ?? null, end.status_code ?? null, Math.round(end.elapsed_ms), end.finish_reason ?? null, end.preview ?? null, JSON.stringify(detail), id],
      );
      return true;
    });
  }

  /** Newest first. */
  async list(): Promise<ChatHistorySummary[]> {
    return (await this.x.all<Omit<Row, "detail">>(`SELECT ${SUMMARY_COLUMNS} FROM chat_history ORDER BY created_at DESC, seq DESC`)).map(toSummary);
  }

  async get(id: string): Promise<ChatHistoryItem | undefined> {
    const row = await this.x.get<Row>(`SELECT ${SUMMARY_COLUMNS}, detail FROM chat_history WHERE id = ?`, [id]);
    if (!row) return undefined;
    return { ...toSummary(row), ...(JSON.parse(row.detail) as ChatHistoryDetail) };
  }

  delete(id: string): Promise<boolean> {
    return this.x.transaction(async (tx) => {
      const changed = (await tx.run("DELETE FROM chat_history WHERE id = ?", [id])).changes > 0;
      if (changed) await this.bump(tx);
      return changed;
    });
  }

  async deleteAll(): Promise<void> {
    await this.x.transaction(async (tx) => {
      await tx.run("DELETE FROM chat_history");
      await this.bump(tx);
    });
  }

  /** Keep the newest `limit` entries (0 deletes all). */
  async prune(limit: number): Promise<void> {
    await this.x.transaction((tx) => this.pruneTo(tx, limit));
  }

  private async pruneTo(tx: SqlExecutor, limit: number): Promise<void> {
    const removed = (
      await tx.run("DELETE FROM chat_history WHERE id NOT IN (SELECT id FROM chat_history ORDER BY created_at DESC, seq DESC LIMIT ?)", [Math.max(0, Math.floor(limit))])
    ).changes;
    if (removed > 0) await this.bump(tx);
  }

  async count(): Promise<number> {
    return (await this.x.get<{ n: number }>("SELECT COUNT(*) AS n FROM chat_history"))?.n ?? 0;
  }
}
