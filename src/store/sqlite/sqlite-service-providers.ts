// SAML service providers in SQLite, one JSON document per entityID (validated in ../sp-validation.ts).
import type Database from 'better-sqlite3';
import { StoreError, type NewServiceProvider, type ServiceProviderRecord, type ServiceProviderStore } from '../types.js';
import { validateServiceProvider } from '../sp-validation.js';
import { guard } from './sqlite-errors.js';

interface SpRow { entity_id: string; record_json: string; created_at: number }

function toRecord(row: SpRow): ServiceProviderRecord {
  try {
    return { ...(JSON.parse(row.record_json) as NewServiceProvider), createdAt: row.created_at };
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `service provider '${row.entity_id}' is unreadable`, { cause: err });
  }
}

export class SqliteServiceProviderStore implements ServiceProviderStore {
  readonly #now: () => number;
  readonly #sql;

  constructor(db: Database.Database, now: () => number) {
    this.#now = now;
    this.#sql = {
      insert: db.prepare('INSERT INTO service_providers (entity_id, record_json, created_at) VALUES (?, ?, ?)'),
      update: db.prepare('UPDATE service_providers SET record_json = ? WHERE entity_id = ?'),
      get: db.prepare<[string], SpRow>('SELECT * FROM service_providers WHERE entity_id = ?'),
      list: db.prepare<[], SpRow>('SELECT * FROM service_providers ORDER BY created_at, rowid'),
      remove: db.prepare('DELETE FROM service_providers WHERE entity_id = ?'),
    };
  }

  async create(sp: NewServiceProvider): Promise<ServiceProviderRecord> {
    const valid = validateServiceProvider(sp);
    guard(() => this.#sql.insert.run(valid.entityId, JSON.stringify(valid), this.#now()),
      `service provider '${valid.entityId}' already exists`);
    return (await this.get(valid.entityId))!;
  }

  async update(sp: NewServiceProvider): Promise<ServiceProviderRecord> {
    const valid = validateServiceProvider(sp);
    const { changes } = guard(() => this.#sql.update.run(JSON.stringify(valid), valid.entityId));
    if (changes === 0) throw new StoreError('NOT_FOUND', `service provider '${valid.entityId}' not found`);
    return (await this.get(valid.entityId))!;
  }

  async get(entityId: string): Promise<ServiceProviderRecord | undefined> {
    if (typeof entityId !== 'string') return undefined;
    const row = guard(() => this.#sql.get.get(entityId));
    return row && toRecord(row);
  }

  async list(): Promise<ServiceProviderRecord[]> {
    return guard(() => this.#sql.list.all()).map(toRecord);
  }

  async remove(entityId: string): Promise<void> {
    const { changes } = guard(() => this.#sql.remove.run(String(entityId)));
    if (changes === 0) throw new StoreError('NOT_FOUND', `service provider '${entityId}' not found`);
  }
}
