// Wiring of one Cohort node: the order things start and stop in. No decisions live here; each part is configured
// from CohortConfig and handed the interfaces it needs.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CohortConfig } from './config/types.js';
import { issuerOf } from './config/load.js';
import { openDurableStore, storeBackendOf } from './store/index.js';
import { bootstrapStore } from './store/bootstrap.js';
import type { DurableStore, UserStore } from './store/types.js';
import { LdapUserStore, ldapUserStoreOptionsOf } from './store/ldap/index.js';
import { createNodeState } from './state/index.js';
import type { StateServices } from './state/types.js';
import { ClusterNode } from './cluster/node.js';
import { clusterConfigFrom, statusBodyOf } from './cluster/from-config.js';
import { Lockout } from './auth/lockout.js';
import type { RequestObserver } from './http/router.js';
import { sendText } from './http/respond.js';
import { createLogger, type Logger } from './ops/logger.js';
import { Metrics } from './ops/metrics.js';
import { StatusRegistry } from './ops/status.js';
import { opsRoutes } from './ops/routes.js';
import { VERSION } from './version.js';
import { Control } from './control.js';

export interface StartOptions {
  config: CohortConfig;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Where the first admin's generated one-time password is shown (never the log). */
  announce?: (text: string) => void;
}

export interface RunningNode {
  url: string;
  issuer: string;
  logger: Logger;
  stop(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function observerFor(logger: Logger, metrics: Metrics): RequestObserver {
  return {
    finished: (info) => metrics.observeRequest(info.route, info.method, info.status, info.seconds),
    failed: (err, info) => {
      const status = (err as { status?: number }).status ?? 500;
      if (status >= 500) logger.error({ err, route: info.route, method: info.method }, 'request failed');
      else logger.debug({ route: info.route, code: (err as { code?: string }).code, status }, 'request refused');
    },
  };
}

/** Membership changes are operational events: one structured log line each. */
function observeCluster(cluster: ClusterNode, logger: Logger): void {
  cluster.on('member.joined', (m) => logger.info({ event: 'member.joined', member: m.index, address: m.address, version: m.version }, 'member joined'));
  cluster.on('member.left', (m) => logger.info({ event: 'member.left', member: m.index }, 'member left'));
  cluster.on('member.failed', (m) => logger.warn({ event: 'member.failed', member: m.index, address: m.address }, 'member failed'));
  cluster.on('status.changed', (c) => logger.warn({ event: 'cluster.status_changed', from: c.previous, to: c.current }, `cluster is now ${c.current}`));
  cluster.on('connection.rejected', (r) => logger.warn({ event: 'cluster.connection_rejected', remote: r.remoteAddress, reason: r.reason }, 'back-channel connection rejected'));
  cluster.on('error', (e) => logger.error({ event: 'cluster.error', code: e.code, reason: e.message }, 'cluster error'));
}

export async function startNode(options: StartOptions): Promise<RunningNode> {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: config.log.level, name: config.node.name, index: config.node.index });
  const metrics = new Metrics();
  const cluster = config.node.role === 'standalone' ? undefined : new ClusterNode(clusterConfigFrom(config));
  const status = new StatusRegistry({
    node: { name: config.node.name, index: config.node.index, role: config.node.role },
    version: VERSION,
    ...(cluster ? { cluster: () => statusBodyOf(cluster.status()), stateHeld: async () => (await heldState?.()) ?? {} } : {}),
  });
  // Bound once the state services exist (they need the started cluster).
  let heldState: (() => Promise<Record<string, unknown>>) | undefined;

  // Bind first so that port 0 works and the issuer can name the real port; until wiring finishes every request is
  // answered 503 and lbstatus says so, which is what a load balancer must see while a node starts.
  let handler: Parameters<typeof createServer>[1] = (_req, res) => sendText(res, 503, 'starting\n');
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 15_000 }, (req, res) => handler!(req, res));
  server.keepAliveTimeout = 5_000;
  const address = await listen(server, config.http.host, config.http.port);
  const issuer = issuerOf(config, address.port);
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  let store: DurableStore | undefined;
  let control: Control | undefined;
  let state: StateServices | undefined;
  let ldap: LdapUserStore | undefined;
  try {
    store = await openDurableStore(config.dataDir, {
      scrypt: config.auth.scrypt, backend: storeBackendOf(config),
      onMigration: (m) => logger.info({ event: 'migration.applied', version: m.version, name: m.name, ms: m.ms }, 'schema migration applied'),
    });
    // Directory users are managed in the directory: no first admin is created there (keys still are).
    const { keys, admin } = await bootstrapStore(store, config.dataDir, config.auth.initialAdmin.username, env.COHORT_ADMIN_PASSWORD,
      config.users.backend !== 'ldap');
    if (config.users.backend === 'ldap') ldap = new LdapUserStore(ldapUserStoreOptionsOf(config));
    // Clients and keys always stay in the durable store; only users may come from elsewhere.
    const users: UserStore = ldap ?? store.users;
    if (keys.created.length > 0) logger.info({ created: keys.created }, 'data directory initialised');
    if (admin?.generatedPassword) {
      (options.announce ?? ((t) => process.stderr.write(t)))(
        `\nFirst administrator created: ${admin.username}\nOne-time password (shown once, change it at first sign-in): ${admin.generatedPassword}\n\n`);
    } else if (admin) {
      logger.info({ username: admin.username }, 'first administrator created from COHORT_ADMIN_PASSWORD');
    }

    // State services register their RPC handlers before the node joins, so no peer ever calls a method that is not
    // there yet; catch-up runs once the node has joined.
    const nodeState = createNodeState(config, cluster, logger);
    control = new Control({
      config, issuer, store, users, cluster, status, metrics, logger, observer: observerFor(logger, metrics),
      fixedRoutes: opsRoutes(status, metrics),
      setHandler: (next) => { handler = next; },
      ...(nodeState.excludeFromPlacement ? { excludeFromPlacement: nodeState.excludeFromPlacement } : {}),
      resync: () => nodeState.catchUp(),
    });
    control.register();
    if (cluster) {
      observeCluster(cluster, logger);
      await cluster.start();
    }
    state = nodeState.services;
    heldState = nodeState.held;
    const lockout = new Lockout(state.loginFailures, config.auth.lockout);
    const durable = store;
    status.register({ name: 'store', critical: true, check: () => durable.ping() });
    // Without the directory nobody can sign in: out of the balancer's pool until it answers a service bind again.
    const directory = ldap;
    if (directory) status.register({ name: 'ldap', critical: true, check: () => directory.ping() });
    status.register({ name: 'state', critical: false, check: async () => nodeState.checkSynced() });
    for (const check of nodeState.checks ?? []) status.register(check);
    metrics.setLiveSessions(() => nodeState.liveSessions());

    // Everything that depends on the runtime configuration (provider, pages, SAML, admin API) is one layer built
    // by control (layer.ts); each configuration version swaps in a fully built new one.
    status.setStarting('loading the configuration');
    await control.start(state, lockout);
    // Serve at once (sessions held elsewhere are read through their owners), but stay out of the balancer's pool
    // until this node holds what it must hold, so a restarted node never answers from an empty copy.
    status.setStarting('catching up with the cluster');
    logger.info({ event: 'node.started', url, issuer, version: VERSION }, `Cohort ${VERSION} listening on ${url} (issuer ${issuer})`);
    const caughtUp = await nodeState.catchUp();
    logger.info({ event: 'state.caught_up', ...caughtUp }, 'state copied from peers');
    status.markReady();
  } catch (err) {
    server.close();
    control?.close();
    await state?.close();
    await cluster?.stop();
    await ldap?.close();
    await store?.close();
    throw err;
  }

  const durable = store;
  const live = state;
  const directory = ldap;
  return {
    url,
    issuer,
    logger,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      control?.close();
      await live.close();
      await cluster?.stop();
      await directory?.close();
      await durable.close();
      logger.info({ event: 'node.stopped' }, 'stopped');
    },
  };
}
