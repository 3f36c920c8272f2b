// Published configuration versions and settings documents in SQLite (see ../types.ts for the contracts).
import type Database from 'better-sqlite3';
import {
  StoreError, type ConfigVersion, type ConfigVersionStore, type ConfigVersionSummary, type SettingsEntry, type SettingsStore,
} from '../types.js';
import { MAX_VERSIONS_LISTED, validateConfigVersion, validateSetting } from '../config-validation.js';
import { guard } from './sqlite-errors.js';

interface VersionRow { version: number; published_at: number; published_by: string; digest: string; snapshot: string }
interface SettingRow { name: string; value_json: string; updated_at: number; updated_by: string }

const toSummary = (r: Omit<VersionRow, 'snapshot'>): ConfigVersionSummary =>
  ({ version: r.version, publishedAt: r.published_at, publishedBy: r.published_by, digest: r.digest });
const toVersion = (r: VersionRow): ConfigVersion => ({ ...toSummary(r), snapshot: r.snapshot });

function toSetting(r: SettingRow): SettingsEntry {
  try {
    return { name: r.name, value: JSON.parse(r.value_json) as Record<string, unknown>, updatedAt: r.updated_at, updatedBy: r.updated_by };
  } catch (err) {
    throw new StoreError('UNAVAILABLE', `setting '${r.name}' is unreadable`, { cause: err });
  }
}

export class SqliteConfigVersionStore implements ConfigVersionStore {
  readonly #db: Database.Database;
  readonly #sql;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = {
      insert: db.prepare(`INSERT INTO config_versions (version, published_at, published_by, digest, snapshot)
        VALUES (@version, @publishedAt, @publishedBy, @digest, @snapshot)`),
      get: db.prepare<[number], VersionRow>('SELECT * FROM config_versions WHERE version = ?'),
      latest: db.prepare<[], VersionRow>('SELECT * FROM config_versions ORDER BY version DESC LIMIT 1'),
      list: db.prepare<[number], Omit<VersionRow, 'snapshot'>>(
        'SELECT version, published_at, published_by, digest FROM config_versions ORDER BY version DESC LIMIT ?'),
    };
  }

  async insert(version: ConfigVersion): Promise<'inserted' | 'exists'> {
    validateConfigVersion(version);
    // One transaction, so two processes inserting the same version cannot both see it absent.
    return guard(() => this.#db.transaction(() => {
      const existing = this.#sql.get.get(version.version);
      if (existing) {
        if (existing.digest !== version.digest) {
          throw new StoreError('CONFLICT', `configuration version ${version.version} already exists with another digest`);
        }
        return 'exists' as const;
      }
      this.#sql.insert.run({ ...version });
      return 'inserted' as const;
    }).immediate());
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    if (!Number.isSafeInteger(version)) return undefined;
    const row = guard(() => this.#sql.get.get(version));
    return row && toVersion(row);
  }

  async latest(): Promise<ConfigVersion | undefined> {
    const row = guard(() => this.#sql.latest.get());
    return row && toVersion(row);
  }

  async list(limit = 100): Promise<ConfigVersionSummary[]> {
    const n = Math.max(1, Math.min(MAX_VERSIONS_LISTED, Math.trunc(Number(limit)) || 100));
    return guard(() => this.#sql.list.all(n)).map(toSummary);
  }
}

export class SqliteSettingsStore implements SettingsStore {
  readonly #now: () => number;
  readonly #sql;

  constructor(db: Database.Database, now: () => number) {
    this.#now = now;
    this.#sql = {
      get: db.prepare<[string], SettingRow>('SELECT * FROM settings WHERE name = ?'),
      put: db.prepare(`INSERT INTO settings (name, value_json, updated_at, updated_by) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at,
          updated_by = excluded.updated_by`),
      putIfAbsent: db.prepare(`INSERT INTO settings (name, value_json, updated_at, updated_by) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO NOTHING`),
    };
  }

  async get(name: string): Promise<SettingsEntry | undefined> {
    if (typeof name !== 'string') return undefined;
    const row = guard(() => this.#sql.get.get(name));
    return row && toSetting(row);
  }

  async put(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry> {
    const json = validateSetting(name, value, updatedBy);
    guard(() => this.#sql.put.run(name, json, this.#now(), updatedBy));
    return (await this.get(name))!;
  }

  async putIfAbsent(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry> {
    const json = validateSetting(name, value, updatedBy);
    guard(() => this.#sql.putIfAbsent.run(name, json, this.#now(), updatedBy));
    return (await this.get(name))!;
  }
}
