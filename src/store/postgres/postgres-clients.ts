// OIDC clients in PostgreSQL. As in SQLite, a confidential client's secret is generated here, returned once by
// create(), and only its SHA-256 is kept (see ../client-secret.ts for why a fast hash is enough).
import type pg from 'pg';
import { generateClientSecret, hashClientSecret } from '../client-secret.js';
import { StoreError, type ClientChanges, type ClientRecord, type ClientStore, type NewClient } from '../types.js';
import { validateClientRecord, validateClientUpdate } from '../config-validation.js';
import { validateNewClient } from '../validation.js';
import { guard, storable, toSafeInteger } from './postgres-errors.js';

interface ClientRow {
  client_id: string;
  name: string | null;
  public: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | null;
  grant_types: string[];
  secret_hash: string | null;
  created_at: string;
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    ...(row.name === null ? {} : { name: row.name }),
    public: row.public,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    ...(row.backchannel_logout_uri === null ? {} : { backchannelLogoutUri: row.backchannel_logout_uri }),
    grantTypes: row.grant_types,
    ...(row.secret_hash === null ? {} : { secretHash: row.secret_hash }),
    createdAt: toSafeInteger(row.created_at, 'clients.created_at'),
  };
}

export class PostgresClientStore implements ClientStore {
  readonly #pool: pg.Pool;
  readonly #now: () => number;

  constructor(pool: pg.Pool, now: () => number) {
    this.#pool = pool;
    this.#now = now;
  }

  async create(client: NewClient): Promise<{ client: ClientRecord; secret?: string }> {
    const valid = validateNewClient(client);
    const secret = valid.public ? undefined : generateClientSecret();
    const { rows } = await guard(() => this.#pool.query<ClientRow>(`INSERT INTO clients (client_id, name, public,
        redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, grant_types, secret_hash, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`, [
      valid.clientId, valid.name ?? null, valid.public, valid.redirectUris, valid.postLogoutRedirectUris,
      valid.backchannelLogoutUri ?? null, valid.grantTypes, secret === undefined ? null : hashClientSecret(secret),
      this.#now(),
    ]), `client '${valid.clientId}' already exists`);
    const record = toRecord(rows[0]!);
    return secret === undefined ? { client: record } : { client: record, secret };
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    if (typeof clientId !== 'string' || !storable(clientId)) return undefined;
    const { rows } = await guard(() => this.#pool.query<ClientRow>('SELECT * FROM clients WHERE client_id = $1', [clientId]));
    return rows[0] && toRecord(rows[0]);
  }

  async list(): Promise<ClientRecord[]> {
    const { rows } = await guard(() => this.#pool.query<ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id'));
    return rows.map(toRecord);
  }

  async remove(clientId: string): Promise<void> {
    const id = String(clientId);
    const rowCount = !storable(id) ? 0
      : (await guard(() => this.#pool.query('DELETE FROM clients WHERE client_id = $1', [id]))).rowCount;
    if (rowCount === 0) throw new StoreError('NOT_FOUND', `client '${clientId}' not found`);
  }

  async update(clientId: string, changes: ClientChanges): Promise<ClientRecord> {
    const current = await this.get(clientId);
    if (!current) throw new StoreError('NOT_FOUND', `client '${clientId}' not found`);
    const valid = validateClientUpdate(current, changes);
    const { rows } = await guard(() => this.#pool.query<ClientRow>(`UPDATE clients SET name = $2, redirect_uris = $3,
        post_logout_redirect_uris = $4, backchannel_logout_uri = $5, grant_types = $6
      WHERE client_id = $1 RETURNING *`, [valid.clientId, valid.name ?? null, valid.redirectUris,
      valid.postLogoutRedirectUris, valid.backchannelLogoutUri ?? null, valid.grantTypes]));
    if (!rows[0]) throw new StoreError('NOT_FOUND', `client '${clientId}' not found`);
    return toRecord(rows[0]);
  }

  async put(record: ClientRecord): Promise<ClientRecord> {
    const valid = validateClientRecord(record);
    const { rows } = await guard(() => this.#pool.query<ClientRow>(`INSERT INTO clients (client_id, name, public,
        redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, grant_types, secret_hash, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, public = excluded.public,
        redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris,
        backchannel_logout_uri = excluded.backchannel_logout_uri, grant_types = excluded.grant_types,
        secret_hash = excluded.secret_hash, created_at = excluded.created_at
      RETURNING *`, [valid.clientId, valid.name ?? null, valid.public, valid.redirectUris, valid.postLogoutRedirectUris,
      valid.backchannelLogoutUri ?? null, valid.grantTypes, valid.secretHash ?? null, valid.createdAt]));
    return toRecord(rows[0]!);
  }
}
