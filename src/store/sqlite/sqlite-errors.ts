// Turns SQLite failures into StoreError codes, so callers never depend on the backend's own error types.
import Database from 'better-sqlite3';
import { StoreError } from '../types.js';

/** Result codes that mean the database cannot be used right now (locked, closed, disk trouble), not a bad request. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|READONLY|CANTOPEN|CORRUPT|NOTADB|PROTOCOL)/;

export function toStoreError(err: unknown, conflict: string): unknown {
  if (err instanceof StoreError) return err;
  if (err instanceof Database.SqliteError) {
    if (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new StoreError('CONFLICT', conflict, { cause: err });
    }
    if (UNAVAILABLE.test(err.code)) {
      return new StoreError('UNAVAILABLE', `database unavailable (${err.code})`, { cause: err });
    }
  }
  // better-sqlite3 throws a TypeError for any use of a closed connection.
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new StoreError('UNAVAILABLE', 'store is closed', { cause: err });
  }
  return err;
}

/** Runs a synchronous database step, rethrowing its failure as a StoreError where one applies. */
export function guard<T>(step: () => T, conflict = 'already exists'): T {
  try {
    return step();
  } catch (err) {
    throw toStoreError(err, conflict);
  }
}

/** Parses a JSON array of strings written by this store; anything else is corruption, reported as such. */
export function parseList(json: string, column: string): string[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new StoreError('UNAVAILABLE', `corrupt ${column} column: not a JSON array of strings`);
  }
  return value;
}
