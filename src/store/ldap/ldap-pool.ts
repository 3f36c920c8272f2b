// A bounded pool of LDAP connections: at most `maxConnections` operations talk to the directory at once (each on its
// own connection, since a bind changes the identity of the whole connection), the rest wait in a bounded queue for a
// bounded time. A connection that failed below LDAP (refused, reset, timed out) is thrown away, so when the directory
// comes back the next operation simply opens a fresh one: recovery needs no restart.
import { Client, ResultCodeError } from 'ldapts';
import { StoreError } from '../types.js';

export interface LdapPoolOptions {
  /** ldap://host:port or ldaps://host:port */
  url: string;
  /** The service account that searches the directory. */
  bindDn: string;
  bindPassword: string;
  /** Most connections (and so concurrent operations) open at once. */
  maxConnections: number;
  /** Longest wait for one LDAP message (and for a TCP connection, and for a free connection), in ms. */
  timeoutMs: number;
  /** Most operations waiting for a free connection before new ones are refused. @default 50 x maxConnections */
  maxQueued?: number;
}

/** One pooled connection and who it is bound as (binds are per connection). */
export class LdapConnection {
  /** True while the connection is bound as the service account (a user bind or a reconnect ends that). */
  private asServiceAccount = false;
  constructor(readonly client: Client, private readonly options: LdapPoolOptions) {}

  /** Makes sure the connection searches as the service account; binds only when it is not already. */
  async asService(): Promise<Client> {
    if (this.asServiceAccount && this.client.isBound) return this.client;
    this.asServiceAccount = false;
    try {
      await this.client.bind(this.options.bindDn, this.options.bindPassword);
    } catch (err) {
      // The directory answered but refused the service account: nothing works until an operator fixes it.
      if (err instanceof ResultCodeError) {
        throw new StoreError('UNAVAILABLE', `directory unavailable: it refused the service account (${err.message})`, { cause: err });
      }
      throw err;
    }
    this.asServiceAccount = true;
    return this.client;
  }

  /** Binds as someone else (a user proving their password); the next asService() binds back. */
  async bindAs(dn: string, password: string): Promise<void> {
    this.asServiceAccount = false;
    await this.client.bind(dn, password);
  }
}

interface Waiter {
  resolve(conn: LdapConnection): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class LdapPool {
  private readonly idle: LdapConnection[] = [];
  private readonly waiters: Waiter[] = [];
  private inUse = 0;
  private peak = 0;
  private opened = 0;
  private closed = false;
  private readonly maxQueued: number;

  constructor(private readonly options: LdapPoolOptions) {
    this.maxQueued = options.maxQueued ?? options.maxConnections * 50;
  }

  /**
   * Runs `work` on a connection of its own. Failures below LDAP become StoreError UNAVAILABLE (and the connection is
   * discarded); LDAP result codes (wrong password, no such object) pass through for the caller to interpret.
   */
  async run<T>(work: (conn: LdapConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    let broken = false;
    try {
      return await work(conn);
    } catch (err) {
      if (err instanceof ResultCodeError || err instanceof StoreError) throw err;
      broken = true;
      throw new StoreError('UNAVAILABLE', `directory unavailable (${this.options.url}): ${describe(err, this.options.timeoutMs)}`, { cause: err });
    } finally {
      this.release(conn, broken);
    }
  }

  /** Connections in use now, the most in use at once, connections ever opened, operations waiting. */
  stats(): { inUse: number; peakInUse: number; idle: number; opened: number; queued: number } {
    return { inUse: this.inUse, peakInUse: this.peak, idle: this.idle.length, opened: this.opened, queued: this.waiters.length };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new StoreError('UNAVAILABLE', 'directory connection pool closed'));
    }
    await Promise.all(this.idle.splice(0).map((c) => c.client.unbind().catch(() => undefined)));
  }

  private connect(): LdapConnection {
    this.opened++;
    const { url, timeoutMs } = this.options;
    // strictDN off: DNs come from the directory itself (AD's may not parse strictly) and are sent back verbatim.
    return new LdapConnection(new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs, strictDN: false }), this.options);
  }

  private acquire(): Promise<LdapConnection> {
    if (this.closed) return Promise.reject(new StoreError('UNAVAILABLE', 'directory connection pool closed'));
    if (this.inUse < this.options.maxConnections) {
      this.inUse++;
      this.peak = Math.max(this.peak, this.inUse);
      return Promise.resolve(this.idle.pop() ?? this.connect());
    }
    if (this.waiters.length >= this.maxQueued) {
      return Promise.reject(new StoreError('UNAVAILABLE', `directory busy: ${this.waiters.length} operations already waiting`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve, reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new StoreError('UNAVAILABLE', `directory busy: no free connection within ${this.options.timeoutMs} ms`));
        }, this.options.timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private release(conn: LdapConnection, broken: boolean): void {
    if (broken) {
      // Unbind also destroys the socket; a pending failure is of no interest any more.
      conn.client.unbind().catch(() => undefined);
    }
    const next = this.waiters.shift();
    if (next) {
      // The permit passes straight to the next operation, so inUse never exceeds the bound.
      clearTimeout(next.timer);
      next.resolve(broken ? this.connect() : conn);
      return;
    }
    this.inUse--;
    if (!broken && !this.closed) this.idle.push(conn);
    else if (!broken) conn.client.unbind().catch(() => undefined);
  }
}

function describe(err: unknown, timeoutMs: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out|timeout/i.test(message)) return `no answer within ${timeoutMs} ms`;
  const code = (err as { code?: string }).code;
  return code ? `${code} ${message.split('\n')[0]}` : message.split('\n')[0]!;
}
