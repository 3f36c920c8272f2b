// The console's side of configuration replication: staged changes are marked (who, when), publishing freezes the
// staged content as version N+1 and pushes it to every engine, and each engine's acknowledgement is recorded (the
// console's "last replicated"). Engines that were away ask for the latest version when they come back.
import type { CohortConfig } from '../config/types.js';
import type { ClusterRpc, RpcCaller } from '../cluster/types.js';
import type { ConfigVersion, ConfigVersionSummary, DurableStore } from '../store/types.js';
import type { Logger } from '../ops/logger.js';
import { diffContent, type ConfigChange } from './diff.js';
import { runtimeOf, snapshotOf, stagedContent } from './snapshot.js';
import type { RuntimeSource } from './source.js';
import { SETTINGS } from './types.js';
import { APPLY_METHOD, CONFIG_WIRE_VERSION, LATEST_METHOD, REPORT_METHOD, type VersionAnswer } from './wire.js';

export interface PublisherDeps {
  config: CohortConfig;
  store: DurableStore;
  cluster?: ClusterRpc;
  source: RuntimeSource;
  logger: Logger;
  /** Deadline of each engine's switch, in ms. */
  timeoutMs: number;
  now?: () => number;
}

export interface NodeReplication { index: number; name?: string; version: number; replicatedAt: number }

export interface PublishResult {
  version: number;
  changed: boolean;
  nodes: Array<{ index: number; ok: boolean; version?: number; error?: string }>;
}

export class ConfigPublisher {
  readonly #cleanup: Array<() => void> = [];
  readonly #now: () => number;
  /** One publish at a time on this console. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PublisherDeps) {
    this.#now = deps.now ?? Date.now;
  }

  /** Answers engines' questions; call before the cluster starts. */
  register(): void {
    const { cluster } = this.deps;
    if (!cluster) return;
    this.#cleanup.push(
      cluster.handle(LATEST_METHOD, async () => ({ v: CONFIG_WIRE_VERSION, latest: (await this.deps.store.configVersions.latest()) ?? null })),
      cluster.handle(REPORT_METHOD, async (payload, from: RpcCaller) => {
        const version = (payload as { version?: unknown } | null)?.version;
        if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 0) await this.#acknowledged(from.index, version);
        return { v: CONFIG_WIRE_VERSION };
      }),
    );
  }

  close(): void {
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  /** Records a change to the staged configuration: the console's "last modified". */
  async markStaged(actor: string, what: string): Promise<void> {
    await this.deps.store.settings.put(SETTINGS.staged, { what }, actor);
  }

  async diff(): Promise<ConfigChange[]> {
    const latest = await this.deps.store.configVersions.latest();
    return diffContent(latest ? runtimeOf(latest) : undefined, await stagedContent(this.deps.store, this.deps.config));
  }

  async summary(): Promise<{
    staged: { modifiedAt: number | null; modifiedBy: string | null };
    published: ConfigVersionSummary | null;
    nodes: NodeReplication[];
  }> {
    const [staged, latest, nodes] = await Promise.all([
      this.deps.store.settings.get(SETTINGS.staged), this.deps.store.configVersions.latest(), this.replication(),
    ]);
    return {
      staged: { modifiedAt: staged?.updatedAt ?? null, modifiedBy: staged?.updatedBy ?? null },
      published: latest ? { version: latest.version, publishedAt: latest.publishedAt, publishedBy: latest.publishedBy, digest: latest.digest } : null,
      nodes,
    };
  }

  async replication(): Promise<NodeReplication[]> {
    const doc = (await this.deps.store.settings.get(SETTINGS.replication))?.value as { nodes?: Record<string, { version: number; at: number }> } | undefined;
    return Object.entries(doc?.nodes ?? {}).map(([index, r]) => ({ index: Number(index), version: r.version, replicatedAt: r.at }))
      .sort((a, b) => a.index - b.index);
  }

  /**
   * Freezes the staged content as the next version (or, when nothing changed, keeps the latest) and pushes it to
   * every alive member. A member that fails to switch keeps its version and says why; it gets the version again when
   * it rejoins or at the next publish.
   */
  publish(actor: string): Promise<PublishResult> {
    const run = this.#queue.then(() => this.#publish(actor));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #publish(actor: string): Promise<PublishResult> {
    const { store, logger } = this.deps;
    const content = await stagedContent(store, this.deps.config);
    const { snapshot, digest } = snapshotOf(content);
    const latest = await store.configVersions.latest();
    let version: ConfigVersion;
    const changed = !latest || latest.digest !== digest;
    if (changed) {
      version = { version: (latest?.version ?? 0) + 1, publishedAt: this.#now(), publishedBy: actor, digest, snapshot };
      await store.configVersions.insert(version);
      await store.audit?.append({ actor, action: 'config.published', target: String(version.version), details: { digest } });
      logger.info({ event: 'config.published', version: version.version, actor, digest: digest.slice(0, 12) }, `configuration version ${version.version} published`);
    } else {
      version = latest;
    }
    await this.deps.source.runLocally(version);
    const nodes = await this.#push(version);
    return { version: version.version, changed, nodes };
  }

  async #push(version: ConfigVersion): Promise<PublishResult['nodes']> {
    const { cluster } = this.deps;
    if (!cluster) return [];
    const results = await cluster.broadcast<VersionAnswer>(APPLY_METHOD, { v: CONFIG_WIRE_VERSION, version }, { timeoutMs: this.deps.timeoutMs });
    const out: PublishResult['nodes'] = [];
    for (const r of results.sort((a, b) => a.index - b.index)) {
      if (r.ok) {
        out.push({ index: r.index, ok: true, version: r.value.version });
        await this.#acknowledged(r.index, r.value.version);
      } else {
        out.push({ index: r.index, ok: false, error: r.error.message });
        this.deps.logger.warn({ event: 'config.push_failed', member: r.index, version: version.version, reason: r.error.message },
          'a member did not switch to the published configuration');
      }
    }
    return out;
  }

  async #acknowledged(index: number, version: number): Promise<void> {
    const { store } = this.deps;
    const doc = (await store.settings.get(SETTINGS.replication))?.value as { nodes?: Record<string, unknown> } | undefined;
    const nodes = { ...(doc?.nodes ?? {}), [String(index)]: { version, at: this.#now() } };
    await store.settings.put(SETTINGS.replication, { nodes }, 'system');
  }
}
