// Published configuration versions and settings documents in PostgreSQL (see ../types.ts for the contracts).
import type pg from 'pg';
import {
  StoreError, type ConfigVersion, type ConfigVersionStore, type ConfigVersionSummary, type SettingsEntry, type SettingsStore,
} from '../types.js';
import { MAX_VERSIONS_LISTED, validateConfigVersion, validateSetting } from '../config-validation.js';
import { guard, storable, toSafeInteger } from './postgres-errors.js';

interface VersionRow { version: number; published_at: string; published_by: string; digest: string; snapshot: string }
interface SettingRow { name: string; value: Record<string, unknown>; updated_at: string; updated_by: string }

const toSummary = (r: Omit<VersionRow, 'snapshot'>): ConfigVersionSummary => ({
  version: r.version, publishedAt: toSafeInteger(r.published_at, 'config_versions.published_at'),
  publishedBy: r.published_by, digest: r.digest,
});
const toVersion = (r: VersionRow): ConfigVersion => ({ ...toSummary(r), snapshot: r.snapshot });
const toSetting = (r: SettingRow): SettingsEntry => ({
  name: r.name, value: r.value, updatedAt: toSafeInteger(r.updated_at, 'settings.updated_at'), updatedBy: r.updated_by,
});

export class PostgresConfigVersionStore implements ConfigVersionStore {
  constructor(private readonly pool: pg.Pool) {}

  async insert(version: ConfigVersion): Promise<'inserted' | 'exists'> {
    validateConfigVersion(version);
    // Rows are never changed, so "insert unless present, then compare" is race-free without a transaction.
    const { rowCount } = await guard(() => this.pool.query(`INSERT INTO config_versions
        (version, published_at, published_by, digest, snapshot) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (version) DO NOTHING`,
    [version.version, version.publishedAt, version.publishedBy, version.digest, version.snapshot]));
    if (rowCount === 1) return 'inserted';
    const existing = await this.get(version.version);
    if (existing?.digest !== version.digest) {
      throw new StoreError('CONFLICT', `configuration version ${version.version} already exists with another digest`);
    }
    return 'exists';
  }

  async get(version: number): Promise<ConfigVersion | undefined> {
    if (!Number.isSafeInteger(version) || Math.abs(version) > 2_147_483_647) return undefined;
    const { rows } = await guard(() => this.pool.query<VersionRow>('SELECT * FROM config_versions WHERE version = $1', [version]));
    return rows[0] && toVersion(rows[0]);
  }

  async latest(): Promise<ConfigVersion | undefined> {
    const { rows } = await guard(() => this.pool.query<VersionRow>('SELECT * FROM config_versions ORDER BY version DESC LIMIT 1'));
    return rows[0] && toVersion(rows[0]);
  }

  async list(limit = 100): Promise<ConfigVersionSummary[]> {
    const n = Math.max(1, Math.min(MAX_VERSIONS_LISTED, Math.trunc(Number(limit)) || 100));
    const { rows } = await guard(() => this.pool.query<VersionRow>(
      'SELECT version, published_at, published_by, digest FROM config_versions ORDER BY version DESC LIMIT $1', [n]));
    return rows.map(toSummary);
  }
}

export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly pool: pg.Pool, private readonly now: () => number) {}

  async get(name: string): Promise<SettingsEntry | undefined> {
    if (typeof name !== 'string' || !storable(name)) return undefined;
    const { rows } = await guard(() => this.pool.query<SettingRow>('SELECT * FROM settings WHERE name = $1', [name]));
    return rows[0] && toSetting(rows[0]);
  }

  async put(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry> {
    const json = validateSetting(name, value, updatedBy);
    const { rows } = await guard(() => this.pool.query<SettingRow>(`INSERT INTO settings (name, value, updated_at, updated_by)
        VALUES ($1, $2, $3, $4)
      ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by
      RETURNING *`, [name, json, this.now(), updatedBy]));
    return toSetting(rows[0]!);
  }

  async putIfAbsent(name: string, value: Record<string, unknown>, updatedBy: string): Promise<SettingsEntry> {
    const json = validateSetting(name, value, updatedBy);
    await guard(() => this.pool.query(`INSERT INTO settings (name, value, updated_at, updated_by) VALUES ($1, $2, $3, $4)
      ON CONFLICT (name) DO NOTHING`, [name, json, this.now(), updatedBy]));
    return (await this.get(name))!;
  }
}
