// The control plane of one node, wired beside node.ts: which configuration version it runs (runtime/source), the
// console's publishing and admin API (admin/*-api.ts, console role only), and the back-channel operations the
// console asks every member for (ops/node-rpc). node.ts calls register() before the cluster starts and start() after
// it joined; start() builds the first layer, and every later version swaps in a fully built new one.
import type { CohortConfig } from './config/types.js';
import type { ClusterNode } from './cluster/node.js';
import type { DurableStore, UserStore } from './store/types.js';
import type { StateServices } from './state/types.js';
import type { Lockout } from './auth/lockout.js';
import type { Route, RequestObserver } from './http/router.js';
import type { Logger } from './ops/logger.js';
import type { Metrics } from './ops/metrics.js';
import type { StatusRegistry } from './ops/status.js';
import { SignInRate } from './ops/signin-rate.js';
import { registerNodeOps } from './ops/node-rpc.js';
import { RuntimeSource } from './runtime/source.js';
import type { RuntimeConfig } from './runtime/types.js';
import { ConfigPublisher } from './runtime/publisher.js';
import { UserReplication } from './runtime/users.js';
import { clientView, serviceProviderView } from './runtime/views.js';
import { buildLayer, type Layer } from './layer.js';
import { sessionsApiRoutes } from './admin/sessions-api.js';
import { adminRoutes } from './admin/route.js';
import { clientsApi } from './admin/clients-api.js';
import { keysApi } from './admin/keys-api.js';
import { configApi } from './admin/config-api.js';
import { clusterApi } from './admin/cluster-api.js';
import { serviceProvidersApi } from './admin/service-providers-api.js';
import { consoleRoutes } from './admin/console/routes.js';
import { ConsoleSessions } from './admin/console/session.js';

export interface ControlDeps {
  config: CohortConfig;
  issuer: string;
  store: DurableStore;
  users: UserStore;
  cluster: ClusterNode | undefined;
  status: StatusRegistry;
  metrics: Metrics;
  logger: Logger;
  observer: RequestObserver;
  fixedRoutes: Route[];
  /** Swaps the HTTP server's handler: the atomic switch. */
  setHandler(handler: Layer['handler']): void;
  /** Takes a member out of (or back into) state placement, when the state backend supports it. */
  excludeFromPlacement?(index: number, excluded: boolean): void;
  /** Pulls this node's state again and announces it ready (after its maintenance ends). */
  resync?(): Promise<unknown>;
}

const READ_ONLY_WRITES = 'The cluster is read-only because too few of its nodes can be reached, so passwords cannot be changed now.';

export class Control {
  readonly rates = new SignInRate();
  readonly source: RuntimeSource;
  readonly publisher: ConfigPublisher | undefined;
  /** The embedded user store copied from the console to engines (runtime/users.ts). */
  readonly userReplication: UserReplication;
  readonly #syncDisabled = new Set<number>();
  readonly #names = new Map<number, string>();
  /** Web console sign-ins: kept across configuration versions (each version builds its routes anew). */
  readonly #consoleSessions = new ConsoleSessions();
  readonly #cleanup: Array<() => void> = [];
  #state: StateServices | undefined;
  #lockout: Lockout | undefined;

  constructor(private readonly deps: ControlDeps) {
    const { config, store, cluster, logger } = deps;
    const timeoutMs = Math.max(config.cluster.rpcTimeoutMs, 5_000);
    this.source = new RuntimeSource({ config, store, ...(cluster ? { cluster } : {}), logger, timeoutMs, switchTo: (runtime) => this.#switchTo(runtime) });
    this.publisher = config.node.role === 'console'
      ? new ConfigPublisher({ config, store, ...(cluster ? { cluster } : {}), source: this.source, logger, timeoutMs })
      : undefined;
    this.userReplication = new UserReplication({ config, store, users: deps.users, ...(cluster ? { cluster } : {}), logger, timeoutMs });
  }

  /** Back-channel handlers; before the cluster starts. */
  register(): void {
    const { cluster, config } = this.deps;
    this.source.register();
    this.publisher?.register();
    this.userReplication.register();
    if (cluster) {
      this.#cleanup.push(registerNodeOps({
        cluster, name: config.node.name, configVersion: () => this.source.version, rates: this.rates,
        syncDisabled: this.#syncDisabled, timeoutMs: config.cluster.rpcTimeoutMs,
        setSync: (index, enabled) => this.#setSync(index, enabled),
        components: async () => (await this.deps.status.snapshot()).components,
      }));
    }
  }

  /** Loads the configuration to run and serves it; the node stays out of the balancer's pool until this resolves. */
  async start(state: StateServices, lockout: Lockout): Promise<void> {
    this.#state = state;
    this.#lockout = lockout;
    await this.source.start();
    // An engine copies the console's users before it reports ready; the console starts watching its own.
    await this.userReplication.start();
  }

  onSignIn(outcome: 'ok' | 'failed' | 'locked' | 'unavailable', detail: { username: string; source: string }): void {
    this.deps.metrics.signIn(outcome);
    if (outcome === 'ok' || outcome === 'failed' || outcome === 'locked') this.rates.record(outcome === 'ok');
    this.deps.logger.info({ event: `signin.${outcome === 'ok' ? 'succeeded' : outcome}`, username: detail.username, source: detail.source }, 'sign-in');
  }

  close(): void {
    this.source.close();
    this.publisher?.close();
    this.userReplication.close();
    for (const undo of this.#cleanup.splice(0)) undo();
  }

  #readOnlyReason(): string | undefined {
    const status = this.deps.cluster?.status();
    if (!status?.readOnly) return undefined;
    return `The cluster is read-only: only ${status.reachableMembers} of its ${status.configuredMembers} configured members can be reached, `
      + 'so configuration cannot be changed until a majority is back.';
  }

  #setSync(index: number, enabled: boolean): void {
    const { cluster, status, logger } = this.deps;
    if (index === cluster?.selfIndex) {
      status.setMaintenance(!enabled);
      // The others count this node as rejoining: it pulls what changed while it was out, then says it is ready.
      if (enabled) void this.deps.resync?.().catch((err: unknown) => logger.warn({ err: String(err) }, 'state resync after maintenance failed'));
    } else this.deps.excludeFromPlacement?.(index, !enabled);
    logger.warn({ event: enabled ? 'node.sync_enabled' : 'node.sync_disabled', member: index },
      enabled ? `state synchronisation of node ${index} re-enabled` : `state synchronisation of node ${index} disabled for maintenance`);
  }

  #switchTo(runtime: RuntimeConfig): void {
    const { config, store, cluster, logger, metrics } = this.deps;
    const state = this.#state!;
    const lockout = this.#lockout!;
    const fromStore = runtime.version === 0 && config.node.configSource === 'store';
    const layer = buildLayer({
      config, issuer: this.deps.issuer, users: this.deps.users, state, lockout, metrics, logger, observer: this.deps.observer,
      fixedRoutes: this.deps.fixedRoutes,
      // configSource store reads clients live, as always (CLI changes apply at once); a version reads its own.
      clientsOf: (r) => (fromStore ? store.clients : clientView(r.clients)),
      serviceProvidersOf: (r) => (fromStore ? store.serviceProviders : serviceProviderView(r.serviceProviders)),
      writesRefused: () => (cluster?.status().readOnly ? READ_ONLY_WRITES : undefined),
      ...(this.userReplication.changePassword ? { changePassword: this.userReplication.changePassword } : {}),
      onSignIn: (outcome, detail) => this.onSignIn(outcome, detail),
      layerRoutes: ({ terminator }) => this.#adminRoutes(state, lockout, terminator),
    }, runtime);
    this.deps.setHandler(layer.handler);
  }

  #adminRoutes(state: StateServices, lockout: Lockout, terminator: Parameters<typeof sessionsApiRoutes>[0]['terminator']): Route[] {
    const { config, store, users, cluster, logger } = this.deps;
    const publisher = this.publisher;
    // The web console's session cookie is honoured on the console node only.
    const consoleSessions = publisher ? this.#consoleSessions : undefined;
    const sessions = sessionsApiRoutes({ state, users, terminator, logger, lockout, apiToken: config.admin.apiToken, ...(consoleSessions ? { consoleSessions } : {}) });
    if (!publisher || !consoleSessions) return sessions;
    const auth = { apiToken: config.admin.apiToken, users, lockout, logger, maxBodyBytes: config.http.maxBodyBytes, readOnlyReason: () => this.#readOnlyReason(), consoleSessions };
    const api = [
      ...sessions,
      ...adminRoutes(auth, [
        ...configApi({ config, store, publisher, nodeName: (i) => this.#names.get(i) }),
        ...clientsApi({ store, publisher }),
        ...serviceProvidersApi({ store, publisher }),
        ...keysApi({ store, publisher }),
        ...(cluster ? clusterApi({ cluster, store, timeoutMs: config.cluster.rpcTimeoutMs, names: this.#names }) : []),
      ]),
    ];
    // The web console (admin/console): pages that read and write through the API routes above.
    return [...api, ...consoleRoutes({
      api, users, lockout, sessions: consoleSessions, maxBodyBytes: config.http.maxBodyBytes, logger, status: this.deps.status,
      readOnlyReason: () => this.#readOnlyReason(),
    })];
  }
}
