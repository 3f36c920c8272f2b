// Signing and cookie keys in PostgreSQL. Key material is stored as given (private JWKs, cookie secrets): whoever can
// read this table can sign tokens, so the database role Cohort uses should be the only one granted it.
import type pg from 'pg';
import { StoreError, type KeyRecord, type KeyStore } from '../types.js';
import { validateKeyRecord } from '../validation.js';
import { guard, storable, toSafeInteger } from './postgres-errors.js';

interface KeyRow {
  kid: string;
  use: KeyRecord['use'];
  alg: string;
  material: string;
  created_at: string;
  retired: boolean;
}

const toRecord = (row: KeyRow): KeyRecord => ({
  kid: row.kid, use: row.use, alg: row.alg, material: row.material,
  createdAt: toSafeInteger(row.created_at, 'keys.created_at'), retired: row.retired,
});

export class PostgresKeyStore implements KeyStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async add(key: KeyRecord): Promise<void> {
    validateKeyRecord(key);
    await guard(() => this.#pool.query(`INSERT INTO keys (kid, use, alg, material, created_at, retired)
      VALUES ($1, $2, $3, $4, $5, $6)`, [key.kid, key.use, key.alg, key.material, key.createdAt, key.retired]),
    `key '${key.kid}' already exists`);
  }

  async list(use: KeyRecord['use']): Promise<KeyRecord[]> {
    if (typeof use !== 'string' || !storable(use)) return [];
    const { rows } = await guard(() => this.#pool.query<KeyRow>(
      'SELECT * FROM keys WHERE use = $1 ORDER BY created_at, kid', [use]));
    return rows.map(toRecord);
  }

  async retire(kid: string): Promise<void> {
    const id = String(kid);
    const rowCount = !storable(id) ? 0
      : (await guard(() => this.#pool.query('UPDATE keys SET retired = true WHERE kid = $1', [id]))).rowCount;
    if (rowCount === 0) throw new StoreError('NOT_FOUND', `key '${kid}' not found`);
  }
}
