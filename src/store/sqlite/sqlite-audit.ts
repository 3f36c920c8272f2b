// The audit log in SQLite: append-only rows, details kept as the JSON text validation produced.
import type Database from 'better-sqlite3';
import { StoreError, type AuditEntry, type AuditLog, type AuditQuery, type NewAuditEntry } from '../types.js';
import { validateAuditEntry, validateAuditQuery } from '../validation.js';
import { guard } from './sqlite-errors.js';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details_json: string | null;
}

function toEntry(row: AuditRow): AuditEntry {
  let details: unknown;
  if (row.details_json !== null) {
    details = JSON.parse(row.details_json);
    if (typeof details !== 'object' || details === null || Array.isArray(details)) {
      throw new StoreError('UNAVAILABLE', 'corrupt audit_log.details_json column: not a JSON object');
    }
  }
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    ...(row.target === null ? {} : { target: row.target }),
    ...(details === undefined ? {} : { details: details as Record<string, unknown> }),
  };
}

export class SqliteAuditLog implements AuditLog {
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #insert;
  readonly #byId;

  constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#insert = db.prepare(`INSERT INTO audit_log (at, actor, action, target, details_json)
      VALUES (@at, @actor, @action, @target, @details_json)`);
    this.#byId = db.prepare<[number | bigint], AuditRow>('SELECT * FROM audit_log WHERE id = ?');
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const valid = validateAuditEntry(entry);
    const { lastInsertRowid } = guard(() => this.#insert.run({
      at: this.#now(), actor: valid.actor, action: valid.action, target: valid.target ?? null,
      details_json: valid.detailsJson ?? null,
    }));
    return toEntry(guard(() => this.#byId.get(lastInsertRowid))!);
  }

  async list(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = validateAuditQuery(query);
    // Built from fixed fragments only; every value is a bound parameter.
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: q.limit };
    if (q.before !== undefined) { where.push('id < @before'); params.before = q.before; }
    if (q.actor !== undefined) { where.push('actor = @actor'); params.actor = q.actor; }
    if (q.action !== undefined) { where.push('action = @action'); params.action = q.action; }
    if (q.target !== undefined) { where.push('target = @target'); params.target = q.target; }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return guard(() => this.#db.prepare<[Record<string, string | number>], AuditRow>(sql).all(params)).map(toEntry);
  }
}
