// Which runtime configuration this node runs, and switching to a new one.
//
// node.configSource = store: the node's own live tables, read once at start (standalone nodes, clusters without a
// console). node.configSource = console: the latest PUBLISHED version. An engine asks the console for it at start
// (bounded by a timeout), keeps it in its own store's config_versions, and otherwise runs the newest version it
// already holds, or, with none, its live tables (with a warning). It asks again whenever a console (re)joins, and
// switches when the console pushes a newly published version. The console itself runs its own latest version.
import type { CohortConfig } from '../config/types.js';
import type { ClusterRpc, MemberInfo, RpcCaller } from '../cluster/types.js';
import type { ConfigVersion, DurableStore } from '../store/types.js';
import type { Logger } from '../ops/logger.js';
import { liveRuntime, runtimeOf, stagedContent } from './snapshot.js';
import type { RuntimeConfig } from './types.js';
import {
  APPLY_METHOD, asConfigVersion, CONFIG_WIRE_VERSION, LATEST_METHOD, REPORT_METHOD, type LatestAnswer, type VersionAnswer,
} from './wire.js';

export interface RuntimeSourceDeps {
  config: CohortConfig;
  store: DurableStore;
  cluster?: ClusterRpc;
  logger: Logger;
  /** Builds the layer for `runtime` and swaps it in; throws, leaving the running layer, when it cannot be built. */
  switchTo(runtime: RuntimeConfig): void;
  /** Longest wait for the console's answer at start, in ms. */
  timeoutMs: number;
}

export class ConfigApplyError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ConfigApplyError';
  }
}

export class RuntimeSource {
  #current: RuntimeConfig | undefined;
  /** Switches run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #cleanup: Array<() => void> = [];

  constructor(private readonly deps: RuntimeSourceDeps) {}

  get current(): RuntimeConfig {
    if (!this.#current) throw new Error('runtime configuration not loaded yet');
    return this.#current;
  }

  /** Version this node runs (0 before start or when running its live tables). */
  get version(): number {
    return this.#current?.version ?? 0;
  }

  private get fromConsole(): boolean {
    return this.deps.config.node.configSource === 'console';
  }

  private get isConsole(): boolean {
    return this.deps.config.node.role === 'console';
  }

  /**
   * Registers the back-channel handlers (call before the cluster starts, so no peer calls a missing method); the
   * handlers answer only once start() has loaded a configuration.
   */
  register(): void {
    const { cluster } = this.deps;
    if (!cluster) return;
    this.#cleanup.push(cluster.handle(APPLY_METHOD, (payload, from) => this.#onApply(payload, from)));
    if (this.fromConsole && !this.isConsole) {
      const joined = (member: MemberInfo) => {
        if (member.role === 'console' && this.#current) void this.refresh().catch(() => {});
      };
      cluster.on('member.joined', joined);
      this.#cleanup.push(() => cluster.off('member.joined', joined));
    }
  }

  /** Loads and switches to the configuration this node must run; resolves once it serves it. */
  async start(): Promise<RuntimeConfig> {
    if (!this.fromConsole) return this.#switch(liveRuntime(await stagedContent(this.deps.store, this.deps.config)));
    if (!this.isConsole) {
      const fetched = await this.#fetchLatest();
      if (fetched) await this.#keep(fetched);
    }
    const own = await this.deps.store.configVersions.latest();
    if (own) {
      const runtime = await this.#switch(runtimeOf(own));
      if (!this.isConsole) void this.#report();
      return runtime;
    }
    this.deps.logger.warn({ event: 'config.none_published' },
      'no published configuration version is available: serving this node\'s own stored configuration until one is published');
    return this.#switch(liveRuntime(await stagedContent(this.deps.store, this.deps.config)));
  }

  /** Asks the console again and switches if it has a newer version (a console that rejoined). */
  async refresh(): Promise<void> {
    const fetched = await this.#fetchLatest();
    if (fetched && fetched.version > this.version) await this.apply(fetched);
  }

  /**
   * Verifies, stores and switches to a published version; a version not newer than the running one is kept
   * (stored) but not switched to. Returns the version running afterwards.
   */
  apply(version: ConfigVersion): Promise<number> {
    const run = this.#queue.then(async () => {
      const runtime = runtimeOf(version);
      await this.#keep(version);
      if (version.version > this.version || this.version === 0) {
        this.#switchNow(runtime);
        if (!this.isConsole) void this.#report();
      }
      return this.version;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** For the console after it published: run the new version here too. */
  runLocally(version: ConfigVersion): Promise<number> {
    return this.apply(version);
  }

  close(): void {
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  async #onApply(payload: unknown, from: RpcCaller): Promise<VersionAnswer> {
    if (!this.#current) throw new ConfigApplyError('CONFIG_NOT_READY', 'this node is still starting');
    if (!this.fromConsole) {
      throw new ConfigApplyError('CONFIG_SOURCE_STORE', 'this node reads its configuration from its own store (node.configSource = store)');
    }
    const version = asConfigVersion((payload as { version?: unknown } | null)?.version);
    if (!version) throw new ConfigApplyError('CONFIG_BAD_REQUEST', 'config.apply without a version');
    this.deps.logger.info({ event: 'config.push_received', version: version.version, from: from.index }, 'configuration version pushed');
    return { v: CONFIG_WIRE_VERSION, version: await this.apply(version) };
  }

  /** The console's latest version, or undefined when no console answers in time (or it has none). */
  async #fetchLatest(): Promise<ConfigVersion | undefined> {
    const { cluster, logger, timeoutMs } = this.deps;
    const console = cluster?.aliveMembers().find((m) => m.role === 'console');
    if (!cluster || !console) {
      logger.warn({ event: 'config.console_unreachable' }, 'no console member is reachable: running the newest configuration this node holds');
      return undefined;
    }
    try {
      const answer = await cluster.call<LatestAnswer>(console.index, LATEST_METHOD, { v: CONFIG_WIRE_VERSION, running: this.version }, { timeoutMs });
      return asConfigVersion(answer?.latest);
    } catch (err) {
      logger.warn({ event: 'config.console_unreachable', console: console.index, reason: (err as Error).message },
        'the console did not answer: running the newest configuration this node holds');
      return undefined;
    }
  }

  async #report(): Promise<void> {
    const console = this.deps.cluster?.aliveMembers().find((m) => m.role === 'console');
    if (!console) return;
    await this.deps.cluster!.call(console.index, REPORT_METHOD, { v: CONFIG_WIRE_VERSION, version: this.version }, { timeoutMs: this.deps.timeoutMs })
      .catch(() => { /* the console asks nodes for their version when it needs to know */ });
  }

  /** Stores a verified version in this node's store: idempotent, so a store shared with the console is fine. */
  async #keep(version: ConfigVersion): Promise<void> {
    runtimeOf(version);
    await this.deps.store.configVersions.insert(version);
  }

  #switch(runtime: RuntimeConfig): Promise<RuntimeConfig> {
    const run = this.#queue.then(() => {
      this.#switchNow(runtime);
      return runtime;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #switchNow(runtime: RuntimeConfig): void {
    const started = Date.now();
    try {
      this.deps.switchTo(runtime);
    } catch (err) {
      this.deps.logger.error({ event: 'config.switch_failed', version: runtime.version, reason: (err as Error).message },
        'could not switch to configuration version: still serving the previous one');
      throw new ConfigApplyError('CONFIG_APPLY_FAILED', `version ${runtime.version} could not be applied: ${(err as Error).message}`);
    }
    this.#current = runtime;
    this.deps.logger.info({ event: 'config.switched', version: runtime.version, digest: runtime.digest.slice(0, 12), ms: Date.now() - started },
      `serving configuration version ${runtime.version}`);
  }
}
