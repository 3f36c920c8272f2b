// SAML service providers in PostgreSQL, one jsonb document per entityID (validated in ../sp-validation.ts).
import type pg from 'pg';
import { StoreError, type NewServiceProvider, type ServiceProviderRecord, type ServiceProviderStore } from '../types.js';
import { validateServiceProvider } from '../sp-validation.js';
import { guard, storable, toSafeInteger } from './postgres-errors.js';

interface SpRow { entity_id: string; record: NewServiceProvider; created_at: string | number }

const toRecord = (row: SpRow): ServiceProviderRecord =>
  ({ ...row.record, createdAt: toSafeInteger(row.created_at, 'service_providers.created_at') });

export class PostgresServiceProviderStore implements ServiceProviderStore {
  readonly #pool: pg.Pool;
  readonly #now: () => number;

  constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.#now = now;
  }

  async create(sp: NewServiceProvider): Promise<ServiceProviderRecord> {
    const valid = validateServiceProvider(sp);
    const { rows } = await guard(() => this.#pool.query<SpRow>(
      'INSERT INTO service_providers (entity_id, record, created_at) VALUES ($1, $2, $3) RETURNING *',
      [valid.entityId, JSON.stringify(valid), this.#now()]), `service provider '${valid.entityId}' already exists`);
    return toRecord(rows[0]!);
  }

  async update(sp: NewServiceProvider): Promise<ServiceProviderRecord> {
    const valid = validateServiceProvider(sp);
    const { rows } = await guard(() => this.#pool.query<SpRow>(
      'UPDATE service_providers SET record = $2 WHERE entity_id = $1 RETURNING *', [valid.entityId, JSON.stringify(valid)]));
    if (!rows[0]) throw new StoreError('NOT_FOUND', `service provider '${valid.entityId}' not found`);
    return toRecord(rows[0]);
  }

  async get(entityId: string): Promise<ServiceProviderRecord | undefined> {
    if (typeof entityId !== 'string' || !storable(entityId)) return undefined;
    const { rows } = await guard(() => this.#pool.query<SpRow>('SELECT * FROM service_providers WHERE entity_id = $1', [entityId]));
    return rows[0] && toRecord(rows[0]);
  }

  async list(): Promise<ServiceProviderRecord[]> {
    const { rows } = await guard(() => this.#pool.query<SpRow>('SELECT * FROM service_providers ORDER BY created_seq'));
    return rows.map(toRecord);
  }

  async remove(entityId: string): Promise<void> {
    const id = String(entityId);
    const rowCount = !storable(id) ? 0
      : (await guard(() => this.#pool.query('DELETE FROM service_providers WHERE entity_id = $1', [id]))).rowCount;
    if (rowCount === 0) throw new StoreError('NOT_FOUND', `service provider '${entityId}' not found`);
  }
}
