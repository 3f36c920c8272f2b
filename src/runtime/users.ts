// Replication of the embedded user store, the same way as runtime configuration: the console is its only writer,
// engines (node.configSource = console, users.backend = store) hold read copies.
//
// Console: watches its store's users (a cheap change mark read every second, so `cohort users ...` run against the
// console's data directory is seen too), and pushes each changed row, password hash included (never a password),
// and each removed id to every member. It answers engines' full copies (paged) and their users' password changes.
// Engine: pulls a full copy before it reports ready and whenever a console (re)joins, applies pushes, and forwards
// a password change to the console, answering the page only once the console wrote it.
//
// Every durable store has a random identity (settings 'store.identity', decided once). An engine whose store IS
// the console's (shared PostgreSQL, or one SQLite file on one host) has nothing to copy, but still forwards password
// changes: the rule is the same everywhere and a read-only cluster refuses them the same way.
import { randomUUID } from 'node:crypto';
import type { CohortConfig } from '../config/types.js';
import type { ClusterRpc, MemberInfo, RpcCaller } from '../cluster/types.js';
import { isClusterError } from '../cluster/errors.js';
import type { DurableStore, UserRecord, UserReplicaStore, UserStore } from '../store/types.js';
import type { Logger } from '../ops/logger.js';
import { PasswordChangeRefused } from '../auth/password-change.js';

export const USERS_WIRE_VERSION = 1;
/** Engine -> console: one page of every user. Payload: { v, storeId, after?, limit }. Answer: SnapshotPage. */
export const USERS_SNAPSHOT = 'users.snapshot';
/** Console -> members: changed rows and removed ids. Payload: ApplyRequest. Answer: { v, applied }. */
export const USERS_APPLY = 'users.apply';
/** Engine -> console: a user's new password (over the authenticated, encrypted back channel only). Answer: { v, user }. */
export const USERS_SET_PASSWORD = 'users.setPassword';
/** The settings document holding a store's random identity. */
export const STORE_IDENTITY = 'store.identity';

export interface SnapshotPage { v: number; storeId: string; shared: boolean; at: number; users: UserRecord[]; next: string | null }
export interface ApplyRequest { v: number; storeId: string; users: UserRecord[]; removed: string[]; pull?: boolean }

const PAGE = 2000;
const POLL_MS = 1000;
/** Every this many polls the console compares every row even when the change mark did not move. */
const FULL_SCAN_EVERY = 30;
const PASSWORD_MIN = 12;
const PASSWORD_MAX_BYTES = 1024;

export const CONSOLE_UNREACHABLE = 'The console of this cluster cannot be reached, so passwords cannot be changed now. Try again in a few minutes.';
export const READ_ONLY = 'The cluster is read-only because too few of its nodes can be reached, so passwords cannot be changed now.';

class UsersRpcError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'UsersRpcError';
  }
}

/** This store's identity, created at its first use and the same for every process that opens it. */
export async function storeIdentity(store: DurableStore): Promise<string> {
  const entry = await store.settings.putIfAbsent(STORE_IDENTITY, { id: randomUUID() }, 'system');
  return String(entry.value.id);
}

export interface UserReplicationDeps {
  config: CohortConfig;
  store: DurableStore;
  users: UserStore;
  cluster?: ClusterRpc;
  logger: Logger;
  timeoutMs: number;
  pollMs?: number;
}

export class UserReplication {
  /** writer: the console; replica: an engine; off: no replication (standalone, configSource store, LDAP). */
  readonly role: 'writer' | 'replica' | 'off';
  readonly #cleanup: Array<() => void> = [];
  readonly #replicas: UserReplicaStore | undefined;
  #storeId: Promise<string> | undefined;
  // Writer: the rows engines were last sent, by id.
  #known = new Map<string, string>();
  #mark = '';
  #polls = 0;
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Members whose last push failed: told to pull a full copy at the next poll. */
  readonly #behind = new Set<number>();
  /** Pushes and pulls run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Replica: the console's store is this one (nothing to copy). */
  #shared: boolean | undefined;

  constructor(private readonly deps: UserReplicationDeps) {
    const { config, store, cluster } = deps;
    this.#replicas = store.userReplicas;
    const embedded = config.users.backend !== 'ldap' && this.#replicas !== undefined && cluster !== undefined;
    if (embedded && config.node.role === 'console') this.role = 'writer';
    else if (embedded && config.node.role === 'engine' && config.node.configSource === 'console') this.role = 'replica';
    else this.role = 'off';
  }

  /** Back-channel handlers; before the cluster starts. */
  register(): void {
    const { cluster } = this.deps;
    if (!cluster || this.role === 'off') return;
    this.#storeId = storeIdentity(this.deps.store);
    if (this.role === 'writer') {
      this.#ready = this.#queued(() => this.#scan(false)).catch((err: unknown) => {
        // Engines then get every user again at the first check: harmless, they are written as they are.
        this.deps.logger.warn({ event: 'users.scan_failed', reason: (err as Error).message }, 'could not read the users to replicate');
      });
      this.#cleanup.push(
        cluster.handle(USERS_SNAPSHOT, (payload) => this.#snapshotPage(payload)),
        cluster.handle(USERS_SET_PASSWORD, (payload, from) => this.#setPassword(payload, from)),
      );
      return;
    }
    this.#cleanup.push(cluster.handle(USERS_APPLY, (payload) => this.#onApply(payload)));
    const joined = (member: MemberInfo) => {
      if (member.role === 'console') void this.pull().catch(() => {});
    };
    cluster.on('member.joined', joined);
    this.#cleanup.push(() => cluster.off('member.joined', joined));
  }

  /** Console: starts watching for changes. Engine: copies the console's users (bounded wait) before it is ready. */
  async start(): Promise<void> {
    if (this.role === 'writer') {
      await this.#ready;
      this.#timer = setInterval(() => {
        void this.#queued(() => this.#poll()).catch((err: unknown) =>
          this.deps.logger.warn({ event: 'users.scan_failed', reason: (err as Error).message }, 'could not check the users for changes'));
      }, this.deps.pollMs ?? POLL_MS);
      this.#timer.unref();
    } else if (this.role === 'replica') {
      await this.pull().catch(() => {});
    }
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  /** On an engine: the password change the sign-in pages use (forwarded to the console). Undefined elsewhere. */
  get changePassword(): ((username: string, newPassword: string) => Promise<void>) | undefined {
    return this.role === 'replica' ? (username, newPassword) => this.#forwardPassword(username, newPassword) : undefined;
  }

  // ------------------------------------------------------------------------------------------------------ engine

  /** Copies every user from the console; rows the console no longer has are removed. False when not done. */
  pull(): Promise<boolean> {
    return this.#queued(() => this.#pull());
  }

  async #pull(): Promise<boolean> {
    const { cluster, logger, timeoutMs } = this.deps;
    const console = this.#console();
    if (!cluster || !console) {
      logger.warn({ event: 'users.console_unreachable' }, 'no console member is reachable: serving the users this node holds');
      return false;
    }
    const started = Date.now();
    const storeId = await this.#storeId!;
    const seen = new Set<string>();
    let at = 0;
    let after: string | null = '';
    let count = 0;
    try {
      while (after !== null) {
        const page: SnapshotPage = await cluster.call<SnapshotPage>(console.index, USERS_SNAPSHOT,
          { v: USERS_WIRE_VERSION, storeId, after, limit: PAGE }, { timeoutMs });
        if (page.shared) {
          if (this.#shared !== true) logger.info({ event: 'users.store_shared' }, 'this node shares the console\'s store: no users to copy');
          this.#shared = true;
          return true;
        }
        this.#shared = false;
        if (at === 0) at = page.at;
        const users = Array.isArray(page.users) ? page.users : [];
        for (const u of users) seen.add(u.id);
        await this.#replicas!.applyReplica({ upsert: users, remove: [] });
        count += users.length;
        after = typeof page.next === 'string' ? page.next : null;
      }
      // Rows the console no longer has; one written after the copy started (a push) is newer than `at` and stays.
      const gone = (await this.#replicas!.versions()).filter((r) => !seen.has(r.id) && r.updatedAt < at).map((r) => r.id);
      if (gone.length > 0) await this.#replicas!.applyReplica({ upsert: [], remove: gone });
      logger.info({ event: 'users.copied', users: count, removed: gone.length, ms: Date.now() - started }, 'users copied from the console');
      return true;
    } catch (err) {
      logger.warn({ event: 'users.copy_failed', console: console.index, reason: (err as Error).message },
        'could not copy users from the console: serving the users this node holds');
      return false;
    }
  }

  async #onApply(payload: unknown): Promise<{ v: number; applied: number }> {
    const request = payload as Partial<ApplyRequest> | null;
    if (!request || typeof request.storeId !== 'string') throw new UsersRpcError('USERS_BAD_REQUEST', 'users.apply without a store id');
    if (request.storeId === await this.#storeId!) {
      this.#shared = true;
      return { v: USERS_WIRE_VERSION, applied: 0 };
    }
    if (request.pull) {
      void this.pull().catch(() => {});
      return { v: USERS_WIRE_VERSION, applied: 0 };
    }
    const users = Array.isArray(request.users) ? request.users : [];
    const removed = Array.isArray(request.removed) ? request.removed.filter((id): id is string => typeof id === 'string') : [];
    await this.#queued(() => this.#replicas!.applyReplica({ upsert: users, remove: removed }));
    // Usernames (never hashes) of the first few rows, so an operator can see which change arrived.
    const names = users.slice(0, 20).map((u) => (u as { username?: unknown }).username).filter((n): n is string => typeof n === 'string');
    this.deps.logger.info({ event: 'users.replicated', changed: users.length, removed: removed.length, users: names }, 'user changes applied');
    return { v: USERS_WIRE_VERSION, applied: users.length + removed.length };
  }

  async #forwardPassword(username: string, newPassword: string): Promise<void> {
    const { cluster, logger, timeoutMs } = this.deps;
    if (cluster?.status().readOnly) throw new PasswordChangeRefused(READ_ONLY, 'READ_ONLY');
    const console = this.#console();
    if (!cluster || !console) throw new PasswordChangeRefused(CONSOLE_UNREACHABLE);
    let answer: { user?: UserRecord };
    try {
      answer = await cluster.call(console.index, USERS_SET_PASSWORD, { v: USERS_WIRE_VERSION, username, newPassword }, { timeoutMs });
    } catch (err) {
      const code = isClusterError(err) ? err.remoteCode ?? err.code : 'UNKNOWN';
      logger.warn({ event: 'users.password_forward_failed', username, console: console.index, code }, 'password change not accepted by the console');
      if (code === 'READ_ONLY') throw new PasswordChangeRefused(READ_ONLY, 'READ_ONLY');
      if (code === 'USERS_REFUSED') throw new PasswordChangeRefused('This password cannot be changed here. Sign in again.', 'REFUSED');
      throw new PasswordChangeRefused(CONSOLE_UNREACHABLE);
    }
    // The console pushed the new row to every member already; applying its answer too makes this node current
    // even if that push was lost.
    if (answer.user && this.#shared !== true) await this.#queued(() => this.#replicas!.applyReplica({ upsert: [answer.user!], remove: [] }));
    logger.info({ event: 'users.password_changed', username, via: 'console' }, 'password changed through the console');
  }

  #console(): MemberInfo | undefined {
    return this.deps.cluster?.aliveMembers().find((m) => m.role === 'console');
  }

  // ----------------------------------------------------------------------------------------------------- console

  async #snapshotPage(payload: unknown): Promise<SnapshotPage> {
    await this.#ready;
    const request = payload as { storeId?: unknown; after?: unknown; limit?: unknown } | null;
    const storeId = await this.#storeId!;
    const at = Date.now();
    if (request?.storeId === storeId) return { v: USERS_WIRE_VERSION, storeId, shared: true, at, users: [], next: null };
    const limit = typeof request?.limit === 'number' && Number.isInteger(request.limit) ? Math.min(Math.max(request.limit, 1), PAGE) : PAGE;
    const after = typeof request?.after === 'string' ? request.after : '';
    const users = await this.#replicas!.records({ after, limit });
    return { v: USERS_WIRE_VERSION, storeId, shared: false, at, users, next: users.length === limit ? users[users.length - 1]!.id : null };
  }

  async #setPassword(payload: unknown, from: RpcCaller): Promise<{ v: number; user: UserRecord | null }> {
    const { cluster, users, store, logger } = this.deps;
    if (cluster?.status().readOnly) throw new UsersRpcError('READ_ONLY', READ_ONLY);
    const request = payload as { username?: unknown; newPassword?: unknown; currentPassword?: unknown } | null;
    const username = request?.username;
    const next = request?.newPassword;
    if (typeof username !== 'string' || typeof next !== 'string' || next.length < PASSWORD_MIN || Buffer.byteLength(next) > PASSWORD_MAX_BYTES) {
      throw new UsersRpcError('USERS_BAD_REQUEST', 'users.setPassword needs a username and an acceptable new password');
    }
    const user = await users.getByUsername(username);
    if (!user || user.disabled) throw new UsersRpcError('USERS_REFUSED', 'no such enabled user');
    if (typeof request?.currentPassword === 'string') {
      if (!(await users.verifyPassword(username, request.currentPassword))) throw new UsersRpcError('USERS_REFUSED', 'the current password is wrong');
    } else if (!user.mustChangePassword) {
      // Without the current password, only a one-time password the engine just verified may be replaced.
      throw new UsersRpcError('USERS_REFUSED', 'the current password is required');
    }
    await users.setPassword(username, next, { mustChange: false });
    await store.audit?.append({ actor: user.username, action: 'user.password_changed', target: user.username, details: { via: from.index } })
      .catch(() => { /* the audit entry is best effort; the change itself is done */ });
    logger.info({ event: 'users.password_changed', username: user.username, via: from.index }, 'password changed for a user at an engine');
    // Pushed to every engine, normally before the engine that asked is answered; a slow member does not hold the
    // answer past half the deadline (the asking engine applies the row it is answered with itself).
    const pushed = this.#queued(() => this.#scan(true)).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pushed, new Promise<void>((resolve) => { timer = setTimeout(resolve, this.deps.timeoutMs / 2); })]);
    clearTimeout(timer);
    const [record] = await this.#replicas!.records({ id: user.id });
    return { v: USERS_WIRE_VERSION, user: record ?? null };
  }

  async #poll(): Promise<void> {
    this.#polls += 1;
    const mark = await this.#replicas!.changeMark();
    if (mark === this.#mark && this.#polls % FULL_SCAN_EVERY !== 0 && this.#behind.size === 0) return;
    await this.#scan(true);
  }

  /** Compares every row with what engines were sent and pushes the difference (`push` false: only remember). */
  async #scan(push: boolean): Promise<void> {
    const mark = await this.#replicas!.changeMark();
    const rows = await this.#replicas!.records();
    const next = new Map<string, string>();
    const changed: UserRecord[] = [];
    for (const row of rows) {
      const text = JSON.stringify(row);
      next.set(row.id, text);
      if (this.#known.get(row.id) !== text) changed.push(row);
    }
    const removed = [...this.#known.keys()].filter((id) => !next.has(id));
    this.#known = next;
    this.#mark = mark;
    if (!push) return;
    const behind = [...this.#behind];
    this.#behind.clear();
    const { cluster, logger, timeoutMs } = this.deps;
    if (!cluster) return;
    const storeId = await this.#storeId!;
    for (const index of behind) {
      if (!cluster.aliveMembers().some((m) => m.index === index)) continue;
      await cluster.call(index, USERS_APPLY, { v: USERS_WIRE_VERSION, storeId, users: [], removed: [], pull: true }, { timeoutMs })
        .catch(() => this.#behind.add(index));
    }
    if (changed.length === 0 && removed.length === 0) return;
    logger.info({ event: 'users.changes_pushed', changed: changed.length, removed: removed.length }, 'user changes pushed to the cluster');
    for (let i = 0; i < Math.max(changed.length, removed.length); i += PAGE) {
      const request: ApplyRequest = { v: USERS_WIRE_VERSION, storeId, users: changed.slice(i, i + PAGE), removed: removed.slice(i, i + PAGE) };
      const results = await cluster.broadcast(USERS_APPLY, request, { timeoutMs });
      for (const r of results) {
        if (r.ok) continue;
        // A member without replication (another role, an older version) has no handler: nothing to catch up.
        if (r.error.code === 'CLUSTER_NO_HANDLER') continue;
        this.#behind.add(r.index);
        logger.warn({ event: 'users.push_failed', member: r.index, reason: r.error.message }, 'a member did not take user changes: it copies them again');
      }
    }
  }

  #queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => {});
    return run;
  }
}
