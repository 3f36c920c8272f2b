// Turns PostgreSQL and connection failures into StoreError codes, so callers never depend on `pg`'s error types.
import pg from 'pg';
import { StoreError } from '../types.js';

/**
 * SQLSTATE classes that mean "the database cannot serve this now" rather than "this request is wrong": connection
 * exceptions (08), invalid transaction state such as a read-only standby (25), authorisation (28), unknown
 * database (3D), rollbacks for serialisation or deadlock (40), resources (53), locks and objects in use (55),
 * operator intervention: shutdown, statement_timeout (57), system I/O (58), internal errors (XX).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '25', '28', '3D', '40', '53', '55', '57', '58', 'XX']);
/** Also unavailable: permission denied, and a missing table (the schema was dropped under a running node). */
const UNAVAILABLE_CODES = new Set(['42501', '42P01']);
const UNIQUE_VIOLATION = '23505';

/** A one-line reason: node's AggregateError (one connect attempt per address) has an empty message of its own. */
export function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reasonOf(err.errors[0]);
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return err.message || (typeof code === 'string' ? code : err.name);
  }
  return String(err);
}

export function toStoreError(err: unknown, conflict: string): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    if (code === UNIQUE_VIOLATION) return new StoreError('CONFLICT', conflict, { cause: err });
    if (UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code)) {
      return new StoreError('UNAVAILABLE', `database unavailable (${code}): ${reasonOf(err)}`, { cause: err });
    }
    // Anything else (a syntax error, a check constraint) is a bug here, not a state of the database: kept as is.
    return err;
  }
  if (err instanceof Error && /after calling end on the pool/.test(err.message)) {
    return new StoreError('UNAVAILABLE', 'store is closed', { cause: err });
  }
  // Everything else `pg` rejects a query with is about the connection: refused, reset, timed out (connecting, waiting
  // for a pooled connection, or for an answer), terminated by the server.
  return new StoreError('UNAVAILABLE', `database unavailable: ${reasonOf(err)}`, { cause: err });
}

/** Runs one database step, rethrowing its failure as a StoreError where one applies. */
export async function guard<T>(step: () => Promise<T>, conflict = 'already exists'): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw toStoreError(err, conflict);
  }
}

/** bigint columns arrive as strings (pg cannot know they fit a double); ours are epoch ms and ids, which do. */
export function toSafeInteger(value: string | number, column: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new StoreError('UNAVAILABLE', `corrupt ${column} column: ${String(value)}`);
  return n;
}

/**
 * PostgreSQL text cannot hold NUL: the server refuses a parameter with one. Lookups test this first, so such a
 * string simply matches nothing, as it does in SQLite.
 */
export const storable = (value: string): boolean => !value.includes('\u0000');

/** The connection string without its password (or any query parameters), for messages and logs. */
export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    // Not a URL (a key=value string): it may hold a password anywhere, so say nothing about it.
    return 'the configured PostgreSQL database';
  }
}
