/** Audit log of admin changes. Callers pass details that are already masked. */
import type { Database } from "bun:sqlite";

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
  constructor(private readonly db: Database) {}

  add(entry: Omit<AuditEntry, "id">): void {
    const id = this.db
      .query("INSERT INTO audit_log(at, actor, address, action, target, detail) VALUES(?, ?, ?, ?, ?, ?)")
      .run(entry.at, entry.actor, entry.address ?? null, entry.action, entry.target ?? null, entry.detail ? JSON.stringify(entry.detail) : null).lastInsertRowid;
    if (Number(id) % 500 === 0) this.db.query("DELETE FROM audit_log WHERE id <= ?").run(Number(id) - MAX_ENTRIES);
  }

  /** Newest first. */
  list(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: q.limit };
    if (q.action) {
      const prefix = q.action.endsWith("*") ? q.action.slice(0, -1) : q.action.endsWith(".") ? q.action : undefined;
      if (prefix !== undefined) {
        where.push("substr(action, 1, length($action)) = $action");
        params.action = prefix;
      } else {
        where.push("action = $action");
        params.action = q.action;
      }
    }
    if (q.actor) {
      where.push("actor = $actor");
      params.actor = q.actor;
    }
    if (q.target) {
      where.push("instr(lower(COALESCE(target, '')), $target) > 0");
      params.target = q.target.toLowerCase();
    }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT $limit`;
    return (this.db.query(sql).all(params) as Row[]).map((r) => ({
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
