/** Audit log of admin changes. Callers pass details that are already masked. */
import type { SqlExecutor, SqlValue } from "./sql/executor.ts";
import { LIKE_ESCAPE, likeContaining } from "./sql/like.ts";

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  address?: string;
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  limit: number;
  /** Exact action, or a prefix ending in "." / "*" (e.g. "accounts." or "accounts*"). */
  action?: string;
  actor?: string;
  /** Substring of the target. */
  target?: string;
}

interface Row {
  id: number;
  at: number;
  actor: string;
  address: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}

/** Entries kept; older ones are pruned on insert. */
const MAX_ENTRIES = 10_000;

export class AuditRepo {
  constructor(private readonly x: SqlExecutor) {}

  async add(entry: Omit<AuditEntry, "id">): Promise<void> {
    const row = await this.x.get<{ id: number }>("INSERT INTO audit_log(at, actor, address, action, target, detail) VALUES(?, ?, ?, ?, ?, ?) RETURNING id", [
      entry.at,
      entry.actor,
      entry.address ?? null,
      entry.action,
      entry.target ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
    ]);
    const id = Number(row?.id ?? 0);
    if (id % 500 === 0) await this.x.run("DELETE FROM audit_log WHERE id <= ?", [id - MAX_ENTRIES]);
  }

  /** Newest first. */
  async list(q: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (q.action) {
      const prefix = q.action.endsWith("*") ? q.action.slice(0, -1) : q.action.endsWith(".") ? q.action : undefined;
      if (prefix !== undefined) {
        // Case-sensitive on both engines (LIKE is not on sqlite).
        where.push("substr(action, 1, ?) = ?");
        params.push(prefix.length, prefix);
      } else {
        where.push("action = ?");
        params.push(q.action);
      }
    }
    if (q.actor) {
      where.push("actor = ?");
      params.push(q.actor);
    }
    if (q.target) {
      where.push(`lower(COALESCE(target, '')) LIKE ? ${LIKE_ESCAPE}`);
      params.push(likeContaining(q.target.toLowerCase()));
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return (await this.x.all<Row>(sql, [...params, q.limit])).map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      address: r.address ?? undefined,
      action: r.action,
      target: r.target ?? undefined,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : undefined,
    }));
  }
}
