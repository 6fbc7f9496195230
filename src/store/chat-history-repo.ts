/**
 * Chat history (§12.6): one row per business turn, newest kept up to a limit. The summary lives in columns,
 * the conversation (messages, prompt, reasoning, answer, tool calls, usage, error) as one JSON document.
 * Every write bumps one stored list revision; a row keeps the revision of its last write (ETags).
 */
import type { Database } from "bun:sqlite";

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
  constructor(private readonly db: Database) {}

  /** The list revision (bumped by every write). */
  revision(): number {
    return (this.db.query("SELECT rev FROM chat_history_rev WHERE id = 1").get() as { rev: number } | null)?.rev ?? 0;
  }

  private bump(): number {
    return (this.db.query("UPDATE chat_history_rev SET rev = rev + 1 WHERE id = 1 RETURNING rev").get() as { rev: number }).rev;
  }

  /** A new entry in `streaming` state; the oldest entries beyond `limit` are pruned. */
  start(entry: ChatHistoryStart, limit: number): void {
    this.db.transaction(() => {
      const rev = this.bump();
      this.db
        .query(
          `INSERT INTO chat_history(id, revision, created_at, updated_at, status, caller_id, provider, surface, model, stream, user_input, detail)
           VALUES(?, ?, ?, ?, 'streaming', ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(entry.id, rev, entry.at, entry.at, entry.caller_id ?? null, entry.provider ?? null, entry.surface ?? null, entry.model ?? null, entry.stream ? 1 : 0, entry.user_input ?? null, JSON.stringify(entry.detail));
      this.pruneTo(limit);
    })();
  }

  /** The end of a turn; false when the entry is gone (deleted or pruned meanwhile). */
  finish(id: string, end: ChatHistoryEnd): boolean {
    return this.db.transaction(() => {
      const row = this.db.query("SELECT detail FROM chat_history WHERE id = ?").get(id) as { detail: string } | null;
      if (!row) return false;
      const detail = { ...(JSON.parse(row.detail) as ChatHistoryDetail), ...end.detail };
      const rev = this.bump();
      this.db
        .query(
          `UPDATE chat_history SET revision = ?, updated_at = ?, completed_at = ?, status = ?, account_id = ?, status_code = ?, elapsed_ms = ?, finish_reason = ?, preview = ?, detail = ?
           WHERE id = ?`,
        )
        .run(rev, end.at, end.at, end.status, end.account_id ?? null, end.status_code ?? null, Math.round(end.elapsed_ms), end.finish_reason ?? null, end.preview ?? null, JSON.stringify(detail), id);
      return true;
    })();
  }

  /** Newest first. */
  list(): ChatHistorySummary[] {
    return (this.db.query(`SELECT ${SUMMARY_COLUMNS} FROM chat_history ORDER BY created_at DESC, rowid DESC`).all() as Omit<Row, "detail">[]).map(toSummary);
  }

  get(id: string): ChatHistoryItem | undefined {
    const row = this.db.query(`SELECT ${SUMMARY_COLUMNS}, detail FROM chat_history WHERE id = ?`).get(id) as Row | null;
    if (!row) return undefined;
    return { ...toSummary(row), ...(JSON.parse(row.detail) as ChatHistoryDetail) };
  }

  delete(id: string): boolean {
    return this.db.transaction(() => {
      const changed = this.db.query("DELETE FROM chat_history WHERE id = ?").run(id).changes > 0;
      if (changed) this.bump();
      return changed;
    })();
  }

  deleteAll(): void {
    this.db.transaction(() => {
      this.db.exec("DELETE FROM chat_history");
      this.bump();
    })();
  }

  /** Keep the newest `limit` entries (0 deletes all). */
  prune(limit: number): void {
    this.db.transaction(() => this.pruneTo(limit))();
  }

  private pruneTo(limit: number): void {
    const removed = this.db
      .query("DELETE FROM chat_history WHERE rowid NOT IN (SELECT rowid FROM chat_history ORDER BY created_at DESC, rowid DESC LIMIT ?)")
      .run(Math.max(0, limit)).changes;
    if (removed > 0) this.bump();
  }

  count(): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM chat_history").get() as { n: number }).n;
  }
}
