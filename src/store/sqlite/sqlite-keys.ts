// Signing and cookie keys in SQLite. Key material is stored as given (private JWKs, cookie secrets): the database
// file is as sensitive as a private key file, which is why it lives in a 0700 data directory with mode 0600.
import type Database from 'better-sqlite3';
import { StoreError, type KeyRecord, type KeyStore } from '../types.js';
import { validateKeyRecord } from '../validation.js';
import { guard } from './sqlite-errors.js';

interface KeyRow {
  kid: string;
  use: KeyRecord['use'];
  alg: string;
  material: string;
  created_at: number;
  retired: 0 | 1;
}

const toRecord = (row: KeyRow): KeyRecord => ({
  kid: row.kid, use: row.use, alg: row.alg, material: row.material, createdAt: row.created_at, retired: row.retired === 1,
});

export class SqliteKeyStore implements KeyStore {
  readonly #sql;

  constructor(db: Database.Database) {
    this.#sql = {
      insert: db.prepare(`INSERT INTO keys (kid, use, alg, material, created_at, retired)
        VALUES (@kid, @use, @alg, @material, @created_at, @retired)`),
      list: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE use = ? ORDER BY created_at, kid'),
      retire: db.prepare('UPDATE keys SET retired = 1 WHERE kid = ?'),
    };
  }

  async add(key: KeyRecord): Promise<void> {
    validateKeyRecord(key);
    guard(() => this.#sql.insert.run({
      kid: key.kid, use: key.use, alg: key.alg, material: key.material, created_at: key.createdAt,
      retired: key.retired ? 1 : 0,
    }), `key '${key.kid}' already exists`);
  }

  async list(use: KeyRecord['use']): Promise<KeyRecord[]> {
    return guard(() => this.#sql.list.all(use)).map(toRecord);
  }

  async retire(kid: string): Promise<void> {
    const { changes } = guard(() => this.#sql.retire.run(String(kid)));
    if (changes === 0) throw new StoreError('NOT_FOUND', `key '${kid}' not found`);
  }
}
