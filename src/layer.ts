// Everything that depends on the runtime configuration, built from one RuntimeConfig: the OIDC provider (clients,
// signing and cookie keys), the session policy, the sign-in pages with their branding, and the routes over them.
// node.ts keeps the current layer's handler in a variable: building a new layer completely and then swapping that
// variable is the atomic switch to a new version. Requests already running finish on the closures they started
// with; no request ever sees half of a version.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CohortConfig } from './config/types.js';
import type { ClientStore, ServiceProviderStore, UserStore } from './store/types.js';
import type { StateServices } from './state/types.js';
import type { RuntimeConfig } from './runtime/types.js';
import { liveKeys } from './runtime/views.js';
import { createProvider } from './protocols/oidc/provider.js';
import { createSessionTerminator, logoutSamlOnEndSession, recordParticipants, type SamlLogoutHook, type SessionTerminator } from './protocols/oidc/session-termination.js';
import { createSamlLayer } from './protocols/saml/routes.js';
import { BRIDGE_CLIENT_ID, bridgeClientMetadata } from './protocols/saml/bridge.js';
import { Interactions } from './auth/interactions.js';
import type { Lockout } from './auth/lockout.js';
import type { ChangePassword } from './auth/password-change.js';
import { interactionRoutes } from './auth/routes.js';
import { SessionPolicy } from './auth/session-policy.js';
import { LogoutAll } from './auth/logout-all.js';
import type { Branding } from './auth/views/layout.js';
import { CsrfTokens } from './http/csrf.js';
import { createRouter, type RequestObserver, type Route } from './http/router.js';
import { notFound } from './http/errors.js';
import { sendError } from './http/respond.js';
import type { Logger } from './ops/logger.js';
import type { Metrics } from './ops/metrics.js';

export interface LayerDeps {
  config: CohortConfig;
  issuer: string;
  users: UserStore;
  state: StateServices;
  lockout: Lockout;
  metrics: Metrics;
  logger: Logger;
  observer: RequestObserver;
  /** Routes that do not depend on the configuration version (status, metrics). */
  fixedRoutes: Route[];
  /** Routes built per layer because they need its terminator (the admin APIs). */
  layerRoutes(layer: { terminator: SessionTerminator; runtime: RuntimeConfig }): Route[];
  /** Where clients are read: the live table (configSource store) or the version's records. */
  clientsOf(runtime: RuntimeConfig): Pick<ClientStore, 'get'>;
  /** Where service providers are read, for the SAML layer. */
  serviceProvidersOf(runtime: RuntimeConfig): Pick<ServiceProviderStore, 'get' | 'list'>;
  writesRefused(): string | undefined;
  /** Where the password-change page writes (an engine forwards it to the console); default: users.setPassword. */
  changePassword?: ChangePassword;
  /** Called for every sign-in outcome (metrics, the console's per-second counts). */
  onSignIn(outcome: 'ok' | 'failed' | 'locked' | 'unavailable', detail: { username: string; source: string }): void;
}

export interface Layer {
  runtime: RuntimeConfig;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Builds the whole layer; throws (leaving nothing behind) when the version cannot be served, e.g. no signing key. */
export function buildLayer(deps: LayerDeps, runtime: RuntimeConfig): Layer {
  const { config, state, logger, metrics } = deps;
  const signingKeyRecords = liveKeys(runtime.keys, 'sig');
  const signingKeys = signingKeyRecords.map((k) => JSON.parse(k.material) as Record<string, unknown>);
  const cookieKeys = liveKeys(runtime.keys, 'cookie').map((k) => k.material);
  if (signingKeys.length === 0) throw new Error(`configuration version ${runtime.version} has no live signing key`);
  if (cookieKeys.length === 0) throw new Error(`configuration version ${runtime.version} has no live cookie key`);
  const { settings } = runtime;
  const branding: Branding = {
    productName: settings.branding.productName,
    ...(settings.branding.notice ? { notice: settings.branding.notice } : {}),
    ...(settings.branding.accentColor ? { accentColor: settings.branding.accentColor } : {}),
  };

  // The logout page's "sign out of all my sessions" needs the terminator, which needs the provider: bound below.
  let logoutAll: LogoutAll | undefined;
  const samlOn = settings.protocols.saml;
  const provider = createProvider({
    config, issuer: deps.issuer, users: deps.users, clients: deps.clientsOf(runtime), state, signingKeys, cookieKeys, branding,
    ...(samlOn ? { samlBridgeClient: bridgeClientMetadata(deps.issuer) } : {}),
    logoutAllOffer: (accountId) => logoutAll?.offer(accountId) ?? Promise.resolve(undefined),
  });
  // SAML participants are reached through the SAML layer, built below once the terminator exists.
  const samlHooks: { logout?: SamlLogoutHook } = {};
  const terminator = createSessionTerminator(provider, state, logger, samlHooks);
  const sessionPolicy = new SessionPolicy(state.sessions, state.revocations, terminator,
    { maxPerUser: settings.session.maxPerUser, limitAction: settings.session.limitAction });
  logoutAll = new LogoutAll({
    enabled: settings.session.allowLogoutAll, policy: sessionPolicy, interRequest: state.interRequest, terminator,
    maxBodyBytes: config.http.maxBodyBytes, logger, branding,
  });
  recordParticipants(provider, state.registry, config.session.ttlSeconds * 1000, logger);
  logoutSamlOnEndSession(provider, state.registry, samlHooks, logger);
  provider.on('grant.success', (ctx) => metrics.tokenIssued(String(ctx.oidc.params?.grant_type ?? 'unknown')));
  provider.on('server_error', (_ctx, err) => logger.error({ err }, 'oidc server error'));
  provider.on('backchannel.error', (_ctx, err, client) =>
    logger.warn({ event: 'logout.backchannel_failed', clientId: client.clientId, reason: err.message, cause: (err as { cause?: Error }).cause?.message }, 'back-channel logout failed'));
  provider.on('backchannel.success', (_ctx, client) =>
    logger.info({ event: 'logout.backchannel_sent', clientId: client.clientId }, 'back-channel logout sent'));
  const interactions = new Interactions({
    provider, users: deps.users, interRequest: state.interRequest,
    csrf: new CsrfTokens(Buffer.from(cookieKeys[0]!, 'base64url')),
    lockout: deps.lockout, sessionPolicy, branding,
    maxBodyBytes: config.http.maxBodyBytes, trustProxy: config.http.trustProxy,
    writesRefused: deps.writesRefused,
    ...(deps.changePassword ? { changePassword: deps.changePassword } : {}),
    onSignIn: deps.onSignIn,
  });

  const saml = samlOn ? createSamlLayer({
    config, issuer: deps.issuer, provider, state, users: deps.users, serviceProviders: deps.serviceProvidersOf(runtime),
    signingKeys: signingKeyRecords, cookieKey: [...cookieKeys].pop()!, terminator, logger,
  }) : undefined;
  if (saml) samlHooks.logout = saml.logoutHook;

  // OIDC switched off in the settings: its endpoints and pages answer 404, everything else still works. SAML
  // sign-ins run through oidc-provider's authorization endpoint as the built-in bridge client, so with SAML on that
  // one client's authorization requests (and their resumption after the sign-in page) stay open, nothing else.
  const oidcOff = (req: IncomingMessage, res: ServerResponse) => sendError(req, res, notFound('OpenID Connect is not enabled on this server.'));
  const protocol = provider.callback();
  const bridgeOnly = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://cohort.invalid');
    const bridge = url.pathname === '/auth' ? url.searchParams.get('client_id') === BRIDGE_CLIENT_ID : url.pathname.startsWith('/auth/');
    return bridge ? protocol(req, res) : oidcOff(req, res);
  };
  const handler = createRouter({
    routes: [
      ...deps.fixedRoutes,
      ...(settings.protocols.oidc || samlOn ? [...interactionRoutes(interactions, branding), ...logoutAll.routes()] : []),
      ...(saml?.routes ?? []),
      ...deps.layerRoutes({ terminator, runtime }),
    ],
    fallback: settings.protocols.oidc ? protocol : samlOn ? bridgeOnly : oidcOff,
    maxBodyBytes: config.http.maxBodyBytes,
    trustProxy: config.http.trustProxy,
    observer: deps.observer,
  });
  return { runtime, handler };
}
