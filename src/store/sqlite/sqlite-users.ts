// Users in SQLite. Passwords are stored only as scrypt PHC strings (src/auth/password.ts) and never leave this file
// except through SqliteUserReplicas (console -> engine replication over the back channel): every UserStore method
// returns User, which has no hash field.
import { withPasswordErrors } from '../password-errors.js';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { PasswordHasher } from '../../auth/password.js';
import { StoreError, type NewUser, type User, type UserRecord, type UserReplicaStore, type UserStore } from '../types.js';
import {
  normaliseUsername, tryUsernameKey, validateUserProfile, validateUserRecord,
} from '../validation.js';
import { guard, parseList } from './sqlite-errors.js';

interface UserRow {
  id: string;
  username: string;
  username_key: string;
  email: string | null;
  display_name: string | null;
  groups_json: string;
  roles_json: string;
  password_hash: string;
  disabled: 0 | 1;
  must_change_password: 0 | 1;
  created_at: number;
  updated_at: number;
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    ...(row.email === null ? {} : { email: row.email }),
    ...(row.display_name === null ? {} : { displayName: row.display_name }),
    groups: parseList(row.groups_json, 'users.groups_json'),
    roles: parseList(row.roles_json, 'users.roles_json'),
    disabled: row.disabled === 1,
    mustChangePassword: row.must_change_password === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const notFound = (username: string) => new StoreError('NOT_FOUND', `user '${username}' not found`);

export class SqliteUserStore implements UserStore {
  readonly #hasher: PasswordHasher;
  readonly #now: () => number;
  readonly #sql;

  constructor(db: Database.Database, hasher: PasswordHasher, now: () => number) {
    this.#hasher = hasher;
    this.#now = now;
    this.#sql = {
      insert: db.prepare(`INSERT INTO users (id, username, username_key, email, display_name, groups_json, roles_json,
          password_hash, disabled, must_change_password, created_at, updated_at)
        VALUES (@id, @username, @username_key, @email, @display_name, @groups_json, @roles_json,
          @password_hash, 0, @must_change_password, @now, @now)`),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      byKey: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username_key = ?'),
      list: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username_key'),
      setPassword: db.prepare(`UPDATE users SET password_hash = @hash, must_change_password = @must_change,
          updated_at = @now WHERE username_key = @key`),
      // Only replaces the hash it verified against, so a concurrent password change is never overwritten.
      rehash: db.prepare(`UPDATE users SET password_hash = @hash WHERE id = @id AND password_hash = @old`),
      setDisabled: db.prepare('UPDATE users SET disabled = @disabled, updated_at = @now WHERE username_key = @key'),
      remove: db.prepare('DELETE FROM users WHERE username_key = ?'),
    };
  }

  async create(user: NewUser): Promise<User> {
    const { username, email, displayName, groups, roles } = validateUserProfile(user);
    const key = username.toLowerCase();
    const conflict = `user '${username}' already exists`;
    // Checked before hashing so a duplicate fails fast; the UNIQUE index still decides a race.
    if (guard(() => this.#sql.byKey.get(key))) throw new StoreError('CONFLICT', conflict);
    const passwordHash = await this.#hash(user.password);
    const id = randomUUID();
    guard(() => this.#sql.insert.run({
      id, username, username_key: key, email: email ?? null, display_name: displayName ?? null,
      groups_json: JSON.stringify(groups), roles_json: JSON.stringify(roles), password_hash: passwordHash,
      must_change_password: user.mustChangePassword ? 1 : 0, now: this.#now(),
    }), conflict);
    return toUser(guard(() => this.#sql.byId.get(id))!);
  }

  async getById(id: string): Promise<User | undefined> {
    if (typeof id !== 'string') return undefined;
    const row = guard(() => this.#sql.byId.get(id));
    return row && toUser(row);
  }

  async getByUsername(username: string): Promise<User | undefined> {
    const row = this.#row(username);
    return row && toUser(row);
  }

  async list(): Promise<User[]> {
    return guard(() => this.#sql.list.all()).map(toUser);
  }

  /**
   * Exactly one password verification whatever happens: against the user's hash, or against the dummy hash when
   * there is no such user, so response time does not tell which usernames exist. A disabled user is refused only
   * after the verification, for the same reason. A correct password whose hash has outdated parameters is
   * re-hashed with the current ones (that second hash happens only on success, which the caller learns anyway).
   */
  async verifyPassword(username: string, password: string): Promise<User | undefined> {
    const row = this.#row(username);
    if (!row) {
      await withPasswordErrors(() => this.#hasher.verifyNothing(password));
      return undefined;
    }
    const matches = await withPasswordErrors(() => this.#hasher.verify(password, row.password_hash));
    if (!matches || row.disabled === 1) return undefined;
    if (this.#hasher.needsRehash(row.password_hash)) await this.#upgradeHash(row, password);
    return toUser(row);
  }

  async setPassword(username: string, password: string, options?: { mustChange?: boolean }): Promise<void> {
    const key = this.#row(username)?.username_key;
    if (key === undefined) throw notFound(username);
    const hash = await this.#hash(password);
    const { changes } = guard(() => this.#sql.setPassword.run({
      hash, must_change: options?.mustChange ? 1 : 0, now: this.#now(), key,
    }));
    if (changes === 0) throw notFound(username);
  }

  async setDisabled(username: string, disabled: boolean): Promise<void> {
    const key = tryUsernameKey(username);
    const { changes } = key === undefined ? { changes: 0 } : guard(() => this.#sql.setDisabled.run({
      disabled: disabled ? 1 : 0, now: this.#now(), key,
    }));
    if (changes === 0) throw notFound(username);
  }

  async remove(username: string): Promise<void> {
    const key = tryUsernameKey(username);
    const { changes } = key === undefined ? { changes: 0 } : guard(() => this.#sql.remove.run(key));
    if (changes === 0) throw notFound(username);
  }

  #row(username: string): UserRow | undefined {
    // A string that cannot be a username matches nobody: for lookups that is "not found", not a usage error.
    const key = tryUsernameKey(username);
    return key === undefined ? undefined : guard(() => this.#sql.byKey.get(key));
  }

  #hash(password: string): Promise<string> {
    return withPasswordErrors(() => this.#hasher.hash(password));
  }

  async #upgradeHash(row: UserRow, password: string): Promise<void> {
    const hash = await this.#hash(password);
    try {
      guard(() => this.#sql.rehash.run({ hash, id: row.id, old: row.password_hash }));
    } catch (err) {
      // The upgrade is opportunistic: a busy or read-only database must not fail a correct sign-in. The old hash
      // still verifies, and the next successful sign-in tries again.
      if (!(err instanceof StoreError && err.code === 'UNAVAILABLE')) throw err;
    }
  }
}

function toRecord(row: UserRow): UserRecord {
  return { ...toUser(row), passwordHash: row.password_hash };
}

/** Users as rows, hashes included, for replication (see UserReplicaStore). */
export class SqliteUserReplicas implements UserReplicaStore {
  readonly #sql;
  readonly #apply: (upsert: UserRecord[], remove: string[]) => void;

  constructor(db: Database.Database) {
    this.#sql = {
      mark: db.prepare<[], { n: number; m: number | null }>('SELECT count(*) AS n, max(updated_at) AS m FROM users'),
      page: db.prepare<[string, number], UserRow>('SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?'),
      byId: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
      versions: db.prepare<[], { id: string; updated_at: number }>('SELECT id, updated_at FROM users'),
      updatedAt: db.prepare<[string], { updated_at: number }>('SELECT updated_at FROM users WHERE id = ?'),
      // A user removed and added again on the console has a new id under the same username.
      dropOtherId: db.prepare('DELETE FROM users WHERE username_key = ? AND id <> ?'),
      upsert: db.prepare(`INSERT INTO users (id, username, username_key, email, display_name, groups_json, roles_json,
          password_hash, disabled, must_change_password, created_at, updated_at)
        VALUES (@id, @username, @username_key, @email, @display_name, @groups_json, @roles_json,
          @password_hash, @disabled, @must_change_password, @created_at, @updated_at)
        ON CONFLICT (id) DO UPDATE SET username = excluded.username, username_key = excluded.username_key,
          email = excluded.email, display_name = excluded.display_name, groups_json = excluded.groups_json,
          roles_json = excluded.roles_json, password_hash = excluded.password_hash, disabled = excluded.disabled,
          must_change_password = excluded.must_change_password, created_at = excluded.created_at,
          updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM users WHERE id = ?'),
    };
    this.#apply = db.transaction((upsert: UserRecord[], remove: string[]) => {
      for (const r of upsert) {
        const stored = this.#sql.updatedAt.get(r.id);
        if (stored && stored.updated_at > r.updatedAt) continue;
        const key = r.username.toLowerCase();
        this.#sql.dropOtherId.run(key, r.id);
        this.#sql.upsert.run({
          id: r.id, username: r.username, username_key: key, email: r.email ?? null, display_name: r.displayName ?? null,
          groups_json: JSON.stringify(r.groups), roles_json: JSON.stringify(r.roles), password_hash: r.passwordHash,
          disabled: r.disabled ? 1 : 0, must_change_password: r.mustChangePassword ? 1 : 0,
          created_at: r.createdAt, updated_at: r.updatedAt,
        });
      }
      for (const id of remove) this.#sql.remove.run(id);
    });
  }

  async changeMark(): Promise<string> {
    const { n, m } = guard(() => this.#sql.mark.get())!;
    return `${n}:${m ?? 0}`;
  }

  async records(options: { after?: string; limit?: number; id?: string } = {}): Promise<UserRecord[]> {
    if (options.id !== undefined) {
      const row = guard(() => this.#sql.byId.get(options.id!));
      return row ? [toRecord(row)] : [];
    }
    return guard(() => this.#sql.page.all(options.after ?? '', options.limit ?? -1)).map(toRecord);
  }

  async versions(): Promise<Array<{ id: string; updatedAt: number }>> {
    return guard(() => this.#sql.versions.all()).map((r) => ({ id: r.id, updatedAt: r.updated_at }));
  }

  async applyReplica(change: { upsert: UserRecord[]; remove: string[] }): Promise<void> {
    const upsert = change.upsert.map(validateUserRecord);
    const remove = change.remove.filter((id): id is string => typeof id === 'string');
    guard(() => this.#apply(upsert, remove), 'a replicated user conflicts with a stored one');
  }
}
