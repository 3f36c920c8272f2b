// OIDC clients in SQLite. A confidential client's secret is generated here, returned once by create(), and only its
// SHA-256 is kept (see ../client-secret.ts for why a fast hash is enough).
import type Database from 'better-sqlite3';
import { generateClientSecret, hashClientSecret } from '../client-secret.js';
import { StoreError, type ClientChanges, type ClientRecord, type ClientStore, type NewClient } from '../types.js';
import { validateClientRecord, validateClientUpdate } from '../config-validation.js';
import { validateNewClient, type ValidClient } from '../validation.js';
import { guard, parseList } from './sqlite-errors.js';

interface ClientRow {
  client_id: string;
  name: string | null;
  public: 0 | 1;
  redirect_uris_json: string;
  post_logout_redirect_uris_json: string;
  backchannel_logout_uri: string | null;
  grant_types_json: string;
  secret_hash: string | null;
  created_at: number;
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    clientId: row.client_id,
    ...(row.name === null ? {} : { name: row.name }),
    public: row.public === 1,
    redirectUris: parseList(row.redirect_uris_json, 'clients.redirect_uris_json'),
    postLogoutRedirectUris: parseList(row.post_logout_redirect_uris_json, 'clients.post_logout_redirect_uris_json'),
    ...(row.backchannel_logout_uri === null ? {} : { backchannelLogoutUri: row.backchannel_logout_uri }),
    grantTypes: parseList(row.grant_types_json, 'clients.grant_types_json'),
    ...(row.secret_hash === null ? {} : { secretHash: row.secret_hash }),
    createdAt: row.created_at,
  };
}

/** The row's columns for a client record; every write (create, update, put) goes through this one mapping. */
function rowOf(c: ValidClient, secretHash: string | undefined, createdAt: number) {
  return {
    client_id: c.clientId,
    name: c.name ?? null,
    public: c.public ? 1 : 0,
    redirect_uris_json: JSON.stringify(c.redirectUris),
    post_logout_redirect_uris_json: JSON.stringify(c.postLogoutRedirectUris),
    backchannel_logout_uri: c.backchannelLogoutUri ?? null,
    grant_types_json: JSON.stringify(c.grantTypes),
    secret_hash: secretHash ?? null,
    created_at: createdAt,
  };
}

export class SqliteClientStore implements ClientStore {
  readonly #now: () => number;
  readonly #sql;

  constructor(db: Database.Database, now: () => number) {
    this.#now = now;
    this.#sql = {
      insert: db.prepare(`INSERT INTO clients (client_id, name, public, redirect_uris_json,
          post_logout_redirect_uris_json, backchannel_logout_uri, grant_types_json, secret_hash, created_at)
        VALUES (@client_id, @name, @public, @redirect_uris_json, @post_logout_redirect_uris_json,
          @backchannel_logout_uri, @grant_types_json, @secret_hash, @created_at)`),
      get: db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?'),
      list: db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY created_at, client_id'),
      remove: db.prepare('DELETE FROM clients WHERE client_id = ?'),
      update: db.prepare(`UPDATE clients SET name = @name, redirect_uris_json = @redirect_uris_json,
          post_logout_redirect_uris_json = @post_logout_redirect_uris_json,
          backchannel_logout_uri = @backchannel_logout_uri, grant_types_json = @grant_types_json
        WHERE client_id = @client_id`),
      put: db.prepare(`INSERT INTO clients (client_id, name, public, redirect_uris_json,
          post_logout_redirect_uris_json, backchannel_logout_uri, grant_types_json, secret_hash, created_at)
        VALUES (@client_id, @name, @public, @redirect_uris_json, @post_logout_redirect_uris_json,
          @backchannel_logout_uri, @grant_types_json, @secret_hash, @created_at)
        ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, public = excluded.public,
          redirect_uris_json = excluded.redirect_uris_json,
          post_logout_redirect_uris_json = excluded.post_logout_redirect_uris_json,
          backchannel_logout_uri = excluded.backchannel_logout_uri, grant_types_json = excluded.grant_types_json,
          secret_hash = excluded.secret_hash, created_at = excluded.created_at`),
    };
  }

  async create(client: NewClient): Promise<{ client: ClientRecord; secret?: string }> {
    const valid = validateNewClient(client);
    const secret = valid.public ? undefined : generateClientSecret();
    guard(() => this.#sql.insert.run(rowOf(valid, secret === undefined ? undefined : hashClientSecret(secret), this.#now())),
      `client '${valid.clientId}' already exists`);
    const record = toRecord(guard(() => this.#sql.get.get(valid.clientId))!);
    return secret === undefined ? { client: record } : { client: record, secret };
  }

  async get(clientId: string): Promise<ClientRecord | undefined> {
    if (typeof clientId !== 'string') return undefined;
    const row = guard(() => this.#sql.get.get(clientId));
    return row && toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    return guard(() => this.#sql.list.all()).map(toRecord);
  }

  async remove(clientId: string): Promise<void> {
    const { changes } = guard(() => this.#sql.remove.run(String(clientId)));
    if (changes === 0) throw new StoreError('NOT_FOUND', `client '${clientId}' not found`);
  }

  async update(clientId: string, changes: ClientChanges): Promise<ClientRecord> {
    const current = await this.get(clientId);
    if (!current) throw new StoreError('NOT_FOUND', `client '${clientId}' not found`);
    const valid = validateClientUpdate(current, changes);
    // The UPDATE statement leaves public, secret_hash and created_at alone; the extra parameters are not bound.
    const { public: _public, secret_hash: _secret, created_at: _created, ...columns } = rowOf(valid, undefined, 0);
    guard(() => this.#sql.update.run(columns));
    return (await this.get(clientId))!;
  }

  async put(record: ClientRecord): Promise<ClientRecord> {
    const valid = validateClientRecord(record);
    guard(() => this.#sql.put.run(rowOf(valid, valid.secretHash, valid.createdAt)));
    return (await this.get(valid.clientId))!;
  }
}
