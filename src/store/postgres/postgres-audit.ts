// The audit log in PostgreSQL: append-only rows with details as jsonb, shared by every node using the database.
import type pg from 'pg';
import { StoreError, type AuditEntry, type AuditLog, type AuditQuery, type NewAuditEntry } from '../types.js';
import { validateAuditEntry, validateAuditQuery } from '../validation.js';
import { guard, toSafeInteger } from './postgres-errors.js';

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
}

function toEntry(row: AuditRow): AuditEntry {
  const details = row.details;
  if (details !== null && (typeof details !== 'object' || Array.isArray(details))) {
    throw new StoreError('UNAVAILABLE', 'corrupt audit_log.details column: not a JSON object');
  }
  return {
    id: toSafeInteger(row.id, 'audit_log.id'),
    at: toSafeInteger(row.at, 'audit_log.at'),
    actor: row.actor,
    action: row.action,
    ...(row.target === null ? {} : { target: row.target }),
    ...(details === null ? {} : { details: details as Record<string, unknown> }),
  };
}

export class PostgresAuditLog implements AuditLog {
  readonly #pool: pg.Pool;
  readonly #now: () => number;

  constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.#now = now;
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    const valid = validateAuditEntry(entry);
    const { rows } = await guard(() => this.#pool.query<AuditRow>(`INSERT INTO audit_log (at, actor, action, target, details)
      VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING *`,
    [this.#now(), valid.actor, valid.action, valid.target ?? null, valid.detailsJson ?? null]));
    return toEntry(rows[0]!);
  }

  async list(query?: AuditQuery): Promise<AuditEntry[]> {
    const q = validateAuditQuery(query);
    // Built from fixed fragments only; every value is a bound parameter.
    const where: string[] = [];
    const params: Array<string | number> = [];
    const match = (sql: string, value: string | number) => { params.push(value); where.push(`${sql} $${params.length}`); };
    if (q.before !== undefined) match('id <', q.before);
    if (q.actor !== undefined) match('actor =', q.actor);
    if (q.action !== undefined) match('action =', q.action);
    if (q.target !== undefined) match('target =', q.target);
    params.push(q.limit);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`;
    const { rows } = await guard(() => this.#pool.query<AuditRow>(sql, params));
    return rows.map(toEntry);
  }
}
