// One ioredis client (standalone, Sentinel or Cluster) shared by every redis-backed service of a node, and the rules
// that make an outage harmless: no offline queue and a deadline on every call (a call fails within
// commandTimeoutMs, never hangs), in-flight commands rejected when the socket drops instead of resent (a resent
// consume could report 'already_consumed' to the caller that actually consumed), every failure surfaced as
// StateUnavailableError (503) rather than a crash, and reconnection forever in the background so service resumes
// by itself. 'error' events are always handled and logged once per outage, not once per reconnect attempt.
import { Cluster, Redis, type ClusterOptions, type RedisCommander, type RedisOptions } from 'ioredis';
import { StateUnavailableError } from '../types.js';
import type { LuaScript } from './scripts.js';

/** The part of a logger the backend uses; a pino Logger fits. Messages never carry keys or values. */
export interface RedisLogger {
  warn(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
}

export interface RedisAddress {
  host: string;
  port: number;
}

export interface RedisConnectionOptions {
  /**
   * redis:// or rediss:// URL: the server (standalone), or where credentials, database and TLS come from (Sentinel;
   * Cluster, where its host:port is also the seed when clusterNodes is absent). @default DEFAULT_REDIS_URL
   */
  url?: string;
  /** Sentinels to ask for the current primary of `sentinelName`; non-empty = Sentinel mode. */
  sentinels?: readonly RedisAddress[];
  /** Name of the monitored primary (Sentinel mode). */
  sentinelName?: string;
  /** Seed nodes of a Redis Cluster; non-empty = Cluster mode. */
  clusterNodes?: readonly RedisAddress[];
  /** AUTH password; overrides one in the URL (configuration keeps it out of the URL so the URL can be shown). */
  password?: string;
  /** Longest wait for any one Redis call, in ms; a call that waits longer fails with StateUnavailableError. */
  commandTimeoutMs?: number;
  logger?: RedisLogger;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Generous for a LAN round trip (well under 1 ms) and a busy server, short enough to fail a request quickly. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1_000;
/** Reconnect backoff ceiling: at most one attempt per second per node while Redis is down, back within a second. */
const MAX_RECONNECT_DELAY_MS = 1_000;

const silentLogger: RedisLogger = { warn: () => {}, info: () => {} };

/**
 * Reply errors that mean "cannot serve now" rather than "this call is wrong": loading, failover, cluster
 * reconfiguration, memory full, bad credentials. Any other reply error is a bug and is rethrown as it is.
 */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|BUSY|NOREPLICAS|OOM|MOVED|ASK|NOAUTH|WRONGPASS)\b/;

export function toStateError(operation: string, error: unknown): Error {
  if (error instanceof StateUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && !UNAVAILABLE_REPLY.test(message)) return error as Error;
  return new StateUnavailableError(`redis ${operation} failed: ${message}`, { cause: error });
}

type Client = Redis | Cluster;

export class RedisConnection {
  readonly commandTimeoutMs: number;
  readonly #client: Client;
  readonly #logger: RedisLogger;
  #subscriber: Client | undefined;
  readonly #listeners = new Map<string, Set<(message: string) => void>>();
  #closed = false;

  constructor(options: RedisConnectionOptions) {
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.commandTimeoutMs) || this.commandTimeoutMs < 1) {
      throw new RangeError(`commandTimeoutMs must be a positive integer, got ${String(options.commandTimeoutMs)}`);
    }
    this.#logger = options.logger ?? silentLogger;
    this.#client = createClient(options, this.commandTimeoutMs);
    this.#watch(this.#client, 'redis');
  }

  /** True while the client holds a ready connection (Cluster: its slot map is loaded). */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  /** Runs one operation against Redis under the deadline, turning every outage into StateUnavailableError. */
  async call<T>(operation: string, run: (client: RedisCommander) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StateUnavailableError('redis state services are closed');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    try {
      return await Promise.race([run(this.#client), deadline]);
    } catch (error) {
      throw toStateError(operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** EVALSHA, then EVAL when the server has not cached the script yet (first use, restart, failover). */
  script(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.call(script.name, async (client) => {
      try {
        return await client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        return client.eval(script.source, keys.length, ...keys, ...args);
      }
    });
  }

  /** Health check for /status/v2: resolves when Redis answers PING in time. */
  async ping(): Promise<void> {
    await this.call('ping', (client) => client.ping());
  }

  /** Resolves once connected; rejects with StateUnavailableError after `timeoutMs`. */
  async waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#client.off('ready', done);
        reject(new StateUnavailableError(`redis not reachable within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#client.on('ready', done);
    });
  }

  /**
   * Delivers every message published on `channel` to `listener` until the returned function is called. Uses a
   * second connection (a subscribed one can send nothing else), created on first use and resubscribed by ioredis
   * after a reconnect; messages published while it was disconnected are lost.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    const subscriber = this.#subscriber ?? this.#openSubscriber();
    let listeners = this.#listeners.get(channel);
    if (listeners === undefined) {
      this.#listeners.set(channel, (listeners = new Set()));
      await this.call('subscribe', () => subscriber.subscribe(channel));
    }
    listeners.add(listener);
    return async () => {
      listeners.delete(listener);
      if (listeners.size > 0 || this.#listeners.get(channel) !== listeners) return;
      this.#listeners.delete(channel);
      await this.call('unsubscribe', () => subscriber.unsubscribe(channel));
    };
  }

  /** Stops reconnecting and closes both connections; later calls fail with StateUnavailableError. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#client, this.#subscriber].map(async (client) => {
      if (client === undefined) return;
      // QUIT lets in-flight replies arrive; bounded, as it would wait for a server that is gone.
      await Promise.race([client.quit().catch(() => undefined), sleep(this.commandTimeoutMs)]);
      client.disconnect();
    }));
  }

  #openSubscriber(): Client {
    // The offline queue is on here: SUBSCRIBE waits for the connection rather than failing, and is resent after a
    // reconnect. Nothing on the request path waits on this connection.
    const subscriber = this.#client instanceof Cluster
      ? this.#client.duplicate(undefined, { enableOfflineQueue: true })
      : this.#client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.#watch(subscriber, 'redis subscriber');
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) {
        try {
          listener(message);
        } catch (error) {
          this.#logger.warn({ err: String(error) }, 'redis message listener failed');
        }
      }
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  /**
   * Logs once when a connection is lost (or never came up) and once when it is back, and keeps ioredis from
   * printing unhandled 'error' events: it emits one per failed reconnect attempt.
   */
  #watch(client: Client, what: string): void {
    let state: 'connecting' | 'up' | 'down' = 'connecting';
    const down = (error: unknown) => {
      if (this.#closed || state === 'down') return;
      state = 'down';
      const err = error instanceof Error ? error.message : String(error);
      this.#logger.warn({ event: 'state.redis_unavailable', connection: what, err }, `${what} unreachable; retrying in the background`);
    };
    client.on('error', down);
    if (client instanceof Cluster) client.on('node error', down);
    client.on('close', () => {
      if (state === 'up') down(new Error('connection closed'));
    });
    client.on('ready', () => {
      if (state === 'down') this.#logger.info({ event: 'state.redis_ready', connection: what }, `${what} reachable again`);
      state = 'up';
    });
  }
}

function createClient(options: RedisConnectionOptions, commandTimeoutMs: number): Client {
  const url = new URL(options.url ?? DEFAULT_REDIS_URL);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new RangeError(`redis url must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  const retry = (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS);
  const common: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(2 * commandTimeoutMs, 2_000),
    enableOfflineQueue: false,
    // 0 = when the socket drops, reject the commands in flight at once (each retry attempt would flush them anyway).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(options.password || url.password ? { password: options.password || decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
  };
  const seed = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) };
  if (options.clusterNodes !== undefined && options.clusterNodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: retry,
      redisOptions: common,
      // A slot map refresh must not outlast the command deadline.
      slotsRefreshTimeout: commandTimeoutMs,
    };
    return new Cluster(options.clusterNodes.map((n) => ({ ...n })), clusterOptions);
  }
  const db = Number(url.pathname.slice(1) || 0);
  if (!Number.isSafeInteger(db) || db < 0) throw new RangeError(`redis url database must be a number, got ${url.pathname}`);
  const base: RedisOptions = { ...common, db, retryStrategy: retry };
  if (options.sentinels !== undefined && options.sentinels.length > 0) {
    if (!options.sentinelName) throw new RangeError('sentinelName is required with sentinels');
    return new Redis({ ...base, sentinels: options.sentinels.map((s) => ({ ...s })), name: options.sentinelName });
  }
  return new Redis({ ...base, ...seed });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
