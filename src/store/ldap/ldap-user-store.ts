// Users from an existing directory (OpenLDAP, Active Directory): read and authenticated over LDAP, never written.
// Authentication is bind-as-user: the service account finds the user's DN with the configured filter, then the
// connection binds as that DN with the given password, so the directory checks the password (and its own policies:
// disabled or locked accounts, expiry); Cohort never sees or compares a hash.
import { InvalidCredentialsError, ResultCodeError, type Client, type Entry } from 'ldapts';
import { StoreError, type NewUser, type User, type UserStore } from '../types.js';
import { escapeFilterValue, fillFilter, parenthesised } from './ldap-filter.js';
import { LdapPool, type LdapConnection, type LdapPoolOptions } from './ldap-pool.js';

export interface LdapUserStoreOptions extends LdapPoolOptions {
  /** Where users are searched (whole subtree). */
  searchBase: string;
  /** Filter finding one user; `{username}` is replaced by the escaped sign-in name. */
  userFilter: string;
  /** Attribute holding a stable, unique id: the OIDC `sub` (entryUUID; objectGUID on Active Directory). */
  idAttribute: string;
  usernameAttribute: string;
  emailAttribute: string;
  displayNameAttribute: string;
  /** Where groups are searched with groupFilter; empty = read the user's memberOf attribute instead. */
  groupBase: string;
  /** Filter finding a user's groups; `{dn}` is the user's DN and `{username}` their name, both escaped. */
  groupFilter: string;
  /** Members of this group (by CN) get the admin role; empty = nobody from the directory is an admin. */
  adminGroup: string;
}

const MANAGED_ELSEWHERE = 'users are managed in the directory; change them there';
/** Most users list() returns: an overview for administrators, not an export of a whole directory. */
export const LIST_LIMIT = 1000;
/** Result codes that mean the directory cannot answer now, not that the credentials are wrong. */
const DIRECTORY_TROUBLE = new Set([3 /* timeLimitExceeded */, 51 /* busy */, 52 /* unavailable */, 80 /* other */]);
/** Attributes Active Directory holds as binary: read as bytes, exposed as hex, searched byte-escaped. */
const BINARY_ID = /^(objectguid|objectsid)$/i;

export class LdapUserStore implements UserStore {
  private readonly pool: LdapPool;
  private readonly binaryId: boolean;

  constructor(private readonly options: LdapUserStoreOptions) {
    this.pool = new LdapPool(options);
    this.binaryId = BINARY_ID.test(options.idAttribute);
  }

  /** Connection-pool figures, for tests and diagnostics. */
  poolStats(): ReturnType<LdapPool['stats']> {
    return this.pool.stats();
  }

  /** Binds as the service account: the cheap round trip behind the `ldap` component of /status/v2. */
  async ping(): Promise<void> {
    await this.run(async (conn) => { await conn.asService(); });
  }

  async verifyPassword(username: string, password: string): Promise<User | undefined> {
    // An empty password is an unauthenticated bind (RFC 4513 5.1.2), which many directories report as success.
    if (!username || !password) return undefined;
    return this.run(async (conn) => {
      const entry = await this.findOne(await conn.asService(), this.userFilter(username));
      if (!entry) return undefined;
      try {
        await conn.bindAs(entry.dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) return undefined;
        if (err instanceof ResultCodeError && !DIRECTORY_TROUBLE.has(err.code)) return undefined; // e.g. policy refusal
        throw err;
      }
      return this.toUser(entry, await this.groupsOf(conn, entry));
    });
  }

  async getByUsername(username: string): Promise<User | undefined> {
    if (!username) return undefined;
    return this.lookup(this.userFilter(username));
  }

  async getById(id: string): Promise<User | undefined> {
    const value = this.binaryId ? (/^([0-9a-f]{2})+$/i.test(id) ? Buffer.from(id, 'hex') : undefined) : id;
    if (value === undefined || value.length === 0) return undefined;
    // Only entries the user filter admits are users: the id alone could name a group or a service account.
    const anyUser = parenthesised(fillFilter(this.options.userFilter, { username: { raw: '*' } }));
    return this.lookup(`(&(${this.options.idAttribute}=${escapeFilterValue(value)})${anyUser})`);
  }

  async list(): Promise<User[]> {
    const filter = parenthesised(fillFilter(this.options.userFilter, { username: { raw: '*' } }));
    const users = await this.run(async (conn) => {
      const client = await conn.asService();
      const { searchEntries } = await client.search(this.options.searchBase, {
        scope: 'sub', filter, attributes: this.attributes(), sizeLimit: LIST_LIMIT, paged: { pageSize: 500 },
        ...this.buffers(),
      });
      const out: User[] = [];
      for (const entry of searchEntries) {
        const user = this.toUser(entry, await this.groupsOf(conn, entry));
        if (user) out.push(user);
      }
      return out;
    });
    return users.sort((a, b) => a.username.localeCompare(b.username, 'en', { sensitivity: 'base' }));
  }

  create(_user: NewUser): Promise<User> {
    return Promise.reject(new StoreError('INVALID', MANAGED_ELSEWHERE));
  }

  setPassword(_username: string, _password: string, _options?: { mustChange?: boolean }): Promise<void> {
    return Promise.reject(new StoreError('INVALID', MANAGED_ELSEWHERE));
  }

  setDisabled(_username: string, _disabled: boolean): Promise<void> {
    return Promise.reject(new StoreError('INVALID', MANAGED_ELSEWHERE));
  }

  remove(_username: string): Promise<void> {
    return Promise.reject(new StoreError('INVALID', MANAGED_ELSEWHERE));
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Runs on a pooled connection; an LDAP error the caller did not handle means the directory cannot serve us. */
  private async run<T>(work: (conn: LdapConnection) => Promise<T>): Promise<T> {
    try {
      return await this.pool.run(work);
    } catch (err) {
      if (err instanceof ResultCodeError) {
        throw new StoreError('UNAVAILABLE', `directory unavailable: ${err.name} (${err.code}) ${err.message}`.trim(), { cause: err });
      }
      throw err;
    }
  }

  private async lookup(filter: string): Promise<User | undefined> {
    return this.run(async (conn) => {
      const entry = await this.findOne(await conn.asService(), filter);
      return entry ? this.toUser(entry, await this.groupsOf(conn, entry)) : undefined;
    });
  }

  private userFilter(username: string): string {
    return parenthesised(fillFilter(this.options.userFilter, { username }));
  }

  /** The one entry a filter matches; none when it matches nothing or, ambiguously, several. */
  private async findOne(client: Client, filter: string): Promise<Entry | undefined> {
    const { searchEntries } = await client.search(this.options.searchBase, {
      scope: 'sub', filter, attributes: this.attributes(), sizeLimit: 2, ...this.buffers(),
    });
    return searchEntries.length === 1 ? searchEntries[0] : undefined;
  }

  private attributes(): string[] {
    const o = this.options;
    return [o.idAttribute, o.usernameAttribute, o.emailAttribute, o.displayNameAttribute,
      ...(o.groupBase ? [] : ['memberOf']), 'createTimestamp', 'modifyTimestamp'];
  }

  private buffers(): { explicitBufferAttributes?: string[] } {
    return this.binaryId ? { explicitBufferAttributes: [this.options.idAttribute] } : {};
  }

  /** Group CNs of a user: from memberOf, or by searching groupBase as the service account. Sorted. */
  private async groupsOf(conn: LdapConnection, entry: Entry): Promise<string[]> {
    const { groupBase, groupFilter } = this.options;
    let dns: string[];
    if (!groupBase) {
      dns = values(entry, 'memberOf');
    } else {
      const username = first(entry, this.options.usernameAttribute) ?? '';
      const { searchEntries } = await (await conn.asService()).search(groupBase, {
        scope: 'sub', filter: parenthesised(fillFilter(groupFilter, { dn: entry.dn, username })), attributes: ['cn'],
      });
      return [...new Set(searchEntries.flatMap((g) => values(g, 'cn').slice(0, 1)))].sort();
    }
    return [...new Set(dns.map(firstRdnValue).filter((cn): cn is string => !!cn))].sort();
  }

  /** Entries without an id or a username are not users Cohort can sign in (no stable `sub`). */
  private toUser(entry: Entry | undefined, groups: string[]): User | undefined {
    if (!entry) return undefined;
    const o = this.options;
    const raw = attribute(entry, o.idAttribute);
    const id = Buffer.isBuffer(raw) ? raw.toString('hex') : Array.isArray(raw) && Buffer.isBuffer(raw[0])
      ? (raw[0] as Buffer).toString('hex') : first(entry, o.idAttribute);
    const username = first(entry, o.usernameAttribute);
    if (!id || !username) return undefined;
    const email = first(entry, o.emailAttribute);
    const displayName = first(entry, o.displayNameAttribute);
    const admin = o.adminGroup !== '' && groups.some((g) => g.toLowerCase() === o.adminGroup.toLowerCase());
    return {
      id, username, groups, roles: admin ? ['admin'] : [],
      ...(email ? { email } : {}), ...(displayName ? { displayName } : {}),
      disabled: false, mustChangePassword: false,
      createdAt: generalizedTime(first(entry, 'createTimestamp')),
      updatedAt: generalizedTime(first(entry, 'modifyTimestamp')),
    };
  }
}

/** Attribute values by case-insensitive name (servers answer in their own spelling: memberOf, memberof). */
function attribute(entry: Entry, name: string): Entry[string] | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : entry[key];
}

function values(entry: Entry, name: string): string[] {
  const v = attribute(entry, name);
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : x));
}

function first(entry: Entry, name: string): string | undefined {
  return values(entry, name)[0] || undefined;
}

/** The value of a DN's first RDN ('cn=staff,ou=groups,...' -> 'staff'), with RFC 4514 escapes undone. */
export function firstRdnValue(dn: string): string | undefined {
  let i = 0;
  for (; i < dn.length; i++) {
    if (dn[i] === '\\') i++;
    else if (dn[i] === ',' || dn[i] === '+') break;
  }
  const rdn = dn.slice(0, i);
  const eq = rdn.indexOf('=');
  if (eq < 0) return undefined;
  const escaped = rdn.slice(eq + 1).trim();
  const bytes: number[] = [];
  for (let j = 0; j < escaped.length; j++) {
    const c = escaped[j]!;
    if (c === '\\' && /^[0-9a-f]{2}$/i.test(escaped.slice(j + 1, j + 3))) {
      bytes.push(parseInt(escaped.slice(j + 1, j + 3), 16));
      j += 2;
    } else if (c === '\\' && j + 1 < escaped.length) {
      bytes.push(...Buffer.from(escaped[++j]!, 'utf8'));
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8') || undefined;
}

/** Epoch ms of an LDAP GeneralizedTime ('20240131120000Z', '20240131120000.0Z'); 0 when absent or unparsable. */
function generalizedTime(value: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,]\d+)?Z$/.exec(value ?? '');
  if (!m) return 0;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}
