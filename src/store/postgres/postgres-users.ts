// Users in PostgreSQL: the same rules as sqlite-users.ts, statement for statement. Passwords are stored only as
// scrypt PHC strings (src/auth/password.ts) and never leave this file except through PostgresUserReplicas
// (replication): every UserStore method returns User, without the hash.
import { withPasswordErrors } from '../password-errors.js';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PasswordHasher } from '../../auth/password.js';
import { StoreError, type NewUser, type User, type UserRecord, type UserReplicaStore, type UserStore } from '../types.js';
import {
  normaliseUsername, tryUsernameKey, validateUserProfile, validateUserRecord,
} from '../validation.js';
import { guard, storable, toSafeInteger } from './postgres-errors.js';

interface UserRow {
  id: string;
  username: string;
  username_key: string;
  email: string | null;
  display_name: string | null;
  groups: string[];
  roles: string[];
  password_hash: string;
  disabled: boolean;
  must_change_password: boolean;
  created_at: string;
  updated_at: string;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    ...(row.email === null ? {} : { email: row.email }),
    ...(row.display_name === null ? {} : { displayName: row.display_name }),
    groups: row.groups,
    roles: row.roles,
    disabled: row.disabled,
    mustChangePassword: row.must_change_password,
    createdAt: toSafeInteger(row.created_at, 'users.created_at'),
    updatedAt: toSafeInteger(row.updated_at, 'users.updated_at'),
  };
}

const notFound = (username: string) => new StoreError('NOT_FOUND', `user '${username}' not found`);

export class PostgresUserStore implements UserStore {
  readonly #pool: pg.Pool;
  readonly #hasher: PasswordHasher;
  readonly #now: () => number;

  constructor(pool: pg.Pool, hasher: PasswordHasher, now: () => number) {
    this.#pool = pool;
    this.#hasher = hasher;
    this.#now = now;
  }

  async create(user: NewUser): Promise<User> {
    const { username, email, displayName, groups, roles } = validateUserProfile(user);
    const key = username.toLowerCase();
    const conflict = `user '${username}' already exists`;
    // Checked before hashing so a duplicate fails fast; the unique index still decides a race (23505 = CONFLICT).
    if (await this.#byKey(key)) throw new StoreError('CONFLICT', conflict);
    const passwordHash = await this.#hash(user.password);
    const now = this.#now();
    const { rows } = await guard(() => this.#pool.query<UserRow>(`INSERT INTO users (id, username, username_key, email,
        display_name, groups, roles, password_hash, disabled, must_change_password, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $9, $10, $10) RETURNING *`, [
      randomUUID(), username, key, email ?? null, displayName ?? null, groups, roles, passwordHash,
      user.mustChangePassword === true, now,
    ]), conflict);
    return toUser(rows[0]!);
  }

  async getById(id: string): Promise<User | undefined> {
    if (typeof id !== 'string' || !storable(id)) return undefined;
    const { rows } = await guard(() => this.#pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]));
    return rows[0] && toUser(rows[0]);
  }

  async getByUsername(username: string): Promise<User | undefined> {
    const row = await this.#row(username);
    return row && toUser(row);
  }

  async list(): Promise<User[]> {
    const { rows } = await guard(() => this.#pool.query<UserRow>('SELECT * FROM users ORDER BY username_key'));
    return rows.map(toUser);
  }

  /**
   * Exactly one password verification whatever happens (see SqliteUserStore.verifyPassword): unknown and disabled
   * users cost the same as a wrong password, and a correct password with outdated parameters is re-hashed.
   */
  async verifyPassword(username: string, password: string): Promise<User | undefined> {
    const row = await this.#row(username);
    if (!row) {
      await withPasswordErrors(() => this.#hasher.verifyNothing(password));
      return undefined;
    }
    const matches = await withPasswordErrors(() => this.#hasher.verify(password, row.password_hash));
    if (!matches || row.disabled) return undefined;
    if (this.#hasher.needsRehash(row.password_hash)) await this.#upgradeHash(row, password);
    return toUser(row);
  }

  async setPassword(username: string, password: string, options?: { mustChange?: boolean }): Promise<void> {
    const key = (await this.#row(username))?.username_key;
    if (key === undefined) throw notFound(username);
    const hash = await this.#hash(password);
    const { rowCount } = await guard(() => this.#pool.query(`UPDATE users SET password_hash = $1,
        must_change_password = $2, updated_at = $3 WHERE username_key = $4`,
    [hash, options?.mustChange === true, this.#now(), key]));
    if (rowCount === 0) throw notFound(username);
  }

  async setDisabled(username: string, disabled: boolean): Promise<void> {
    const key = tryUsernameKey(username);
    const rowCount = key === undefined ? 0 : (await guard(() => this.#pool.query(
      'UPDATE users SET disabled = $1, updated_at = $2 WHERE username_key = $3', [disabled === true, this.#now(), key],
    ))).rowCount;
    if (rowCount === 0) throw notFound(username);
  }

  async remove(username: string): Promise<void> {
    const key = tryUsernameKey(username);
    const rowCount = key === undefined ? 0
      : (await guard(() => this.#pool.query('DELETE FROM users WHERE username_key = $1', [key]))).rowCount;
    if (rowCount === 0) throw notFound(username);
  }

  async #byKey(key: string): Promise<UserRow | undefined> {
    const { rows } = await guard(() => this.#pool.query<UserRow>('SELECT * FROM users WHERE username_key = $1', [key]));
    return rows[0];
  }

  #row(username: string): Promise<UserRow | undefined> {
    // A string that cannot be a username matches nobody: for lookups that is "not found", not a usage error.
    const key = tryUsernameKey(username);
    return key === undefined ? Promise.resolve(undefined) : this.#byKey(key);
  }

  #hash(password: string): Promise<string> {
    return withPasswordErrors(() => this.#hasher.hash(password));
  }

  async #upgradeHash(row: UserRow, password: string): Promise<void> {
    const hash = await this.#hash(password);
    try {
      // Only replaces the hash it verified against, so a concurrent password change is never overwritten.
      await guard(() => this.#pool.query('UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3',
        [hash, row.id, row.password_hash]));
    } catch (err) {
      // Opportunistic, as in SQLite: an unreachable or read-only database must not fail a correct sign-in.
      if (!(err instanceof StoreError && err.code === 'UNAVAILABLE')) throw err;
    }
  }
}

/** Users as rows, hashes included, for replication (see UserReplicaStore); same rules as SqliteUserReplicas. */
export class PostgresUserReplicas implements UserReplicaStore {
  constructor(private readonly pool: pg.Pool) {}

  async changeMark(): Promise<string> {
    const { rows } = await guard(() => this.pool.query<{ n: string; m: string | null }>('SELECT count(*) AS n, max(updated_at) AS m FROM users'));
    return `${rows[0]!.n}:${rows[0]!.m ?? 0}`;
  }

  async records(options: { after?: string; limit?: number; id?: string } = {}): Promise<UserRecord[]> {
    if (options.id !== undefined) {
      if (!storable(options.id)) return [];
      const { rows } = await guard(() => this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [options.id]));
      return rows.map((row) => ({ ...toUser(row), passwordHash: row.password_hash }));
    }
    const { rows } = await guard(() => this.pool.query<UserRow>('SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT $2',
      [options.after ?? '', options.limit ?? null]));
    return rows.map((row) => ({ ...toUser(row), passwordHash: row.password_hash }));
  }

  async versions(): Promise<Array<{ id: string; updatedAt: number }>> {
    const { rows } = await guard(() => this.pool.query<{ id: string; updated_at: string }>('SELECT id, updated_at FROM users'));
    return rows.map((r) => ({ id: r.id, updatedAt: toSafeInteger(r.updated_at, 'users.updated_at') }));
  }

  async applyReplica(change: { upsert: UserRecord[]; remove: string[] }): Promise<void> {
    const upsert = change.upsert.map(validateUserRecord);
    const remove = change.remove.filter((id): id is string => typeof id === 'string' && storable(id));
    const client = await guard(() => this.pool.connect());
    try {
      await guard(async () => {
        await client.query('BEGIN');
        for (const r of upsert) {
          const key = r.username.toLowerCase();
          const stored = await client.query<{ updated_at: string }>('SELECT updated_at FROM users WHERE id = $1 FOR UPDATE', [r.id]);
          if (stored.rows[0] && Number(stored.rows[0].updated_at) > r.updatedAt) continue;
          await client.query('DELETE FROM users WHERE username_key = $1 AND id <> $2', [key, r.id]);
          await client.query(`INSERT INTO users (id, username, username_key, email, display_name, groups, roles,
              password_hash, disabled, must_change_password, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, username_key = EXCLUDED.username_key,
              email = EXCLUDED.email, display_name = EXCLUDED.display_name, groups = EXCLUDED.groups, roles = EXCLUDED.roles,
              password_hash = EXCLUDED.password_hash, disabled = EXCLUDED.disabled,
              must_change_password = EXCLUDED.must_change_password, created_at = EXCLUDED.created_at,
              updated_at = EXCLUDED.updated_at`, [
            r.id, r.username, key, r.email ?? null, r.displayName ?? null, r.groups, r.roles, r.passwordHash,
            r.disabled, r.mustChangePassword, r.createdAt, r.updatedAt,
          ]);
        }
        if (remove.length > 0) await client.query('DELETE FROM users WHERE id = ANY($1)', [remove]);
        await client.query('COMMIT');
      }, 'a replicated user conflicts with a stored one');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
