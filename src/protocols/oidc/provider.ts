// oidc-provider configured for Cohort: accounts from the user store, every model through the state services,
// our own interaction pages, hashed client secrets, and only the features an identity server should expose.
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { CohortConfig } from '../../config/types.js';
import type { ClientStore, UserStore } from '../../store/types.js';
import type { StateServices } from '../../state/types.js';
import { createAdapterFactory } from './adapter.js';
import { routeProviderIds } from './routed-ids.js';
import { createFindAccount, SCOPE_CLAIMS } from './account.js';
import { clientSecretMatches } from '../../store/client-secret.js';
import { errorPage, loggedOutPage, logoutPage } from '../../auth/views/pages.js';
import { PAGE_CSP } from '../../http/headers.js';
import type { Branding } from '../../auth/views/layout.js';

export interface ProviderDeps {
  config: CohortConfig;
  issuer: string;
  users: UserStore;
  /** Only read: an engine's view of its published configuration, or the durable store itself. */
  clients: Pick<ClientStore, 'get'>;
  state: StateServices;
  /** Register the SAML IdP's built-in client (saml/bridge.ts), so SAML sign-ins share the OIDC session. */
  samlBridgeClient?: Record<string, unknown>;
  /** Product name and notice on the logout and error pages. */
  branding?: Branding;
  /** Private JWKs (RS256 and ES256), newest first. */
  signingKeys: Array<Record<string, unknown>>;
  /** Cookie signing keys, newest first (older ones still verify). */
  cookieKeys: string[];
  /** "Sign out of all my sessions" offer for the logout page, when the policy allows it. */
  logoutAllOffer?: (accountId: string | undefined) => Promise<{ token: string; sessions: number } | undefined>;
}

function htmlBody(ctx: KoaContextWithOIDC, status: number, html: string): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

const PUBLIC_ERROR_TEXT: Record<string, string> = {
  invalid_client: 'The application is not registered with this server.',
  invalid_redirect_uri: 'The application sent a return address (redirect_uri) that is not registered for it.',
  invalid_request: 'The application sent a request this server cannot accept.',
  access_denied: 'Access was denied.',
};

/**
 * oidc-provider's default prompts, plus one login check: a session whose account has since been disabled or removed
 * must sign in again (the account lookup fails), instead of reaching the consent checks without an account.
 */
function interactionPolicyFor(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(new interactionPolicy.Check('account_unavailable',
    'the signed-in account is disabled or removed', 'login_required',
    (ctx) => Boolean(ctx.oidc.session?.accountId && !ctx.oidc.account)));
  return policy;
}

export function buildProviderConfiguration(deps: ProviderDeps): Configuration {
  const { config } = deps;
  const secure = deps.issuer.startsWith('https:');
  const ttl = config.oidc.ttl;
  return {
    adapter: createAdapterFactory({ state: deps.state, clients: deps.clients, sessionTtlMs: config.session.ttlSeconds * 1000 }),
    findAccount: createFindAccount(deps.users),
    jwks: { keys: deps.signingKeys as never },
    cookies: {
      keys: deps.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure },
      short: { httpOnly: true, sameSite: 'lax', secure },
      names: { session: 'cohort_session', interaction: 'cohort_interaction', resume: 'cohort_resume' },
    },
    claims: SCOPE_CLAIMS,
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    // ID tokens carry the claims of the granted scopes (name, email, groups), as Keycloak's do.
    conformIdTokenClaims: false,
    // What registered clients can actually use: secrets are stored hashed and clients register no JWKS.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // Authorization code only (with PKCE): the implicit and hybrid flows are not offered (RFC 9700).
    responseTypes: ['code'],
    enabledJWA: {
      // Secrets are stored hashed, so nothing may use a client secret as an HMAC key.
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      idTokenSigningAlgValues: ['RS256', 'ES256', 'PS256'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'PS256'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'PS256'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'PS256'],
    },
    pkce: {
      // S256 only; required for public clients (RFC 9700). oidc-provider accepts nothing weaker than S256.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true,
        // Resource servers are confidential clients and may introspect any token; a public client only its own.
        allowedPolicy: async (ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
      },
      revocation: {
        enabled: true,
        // RFC 7009 2.1: a client may revoke only tokens that were issued to it.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const clientName = ctx.oidc.client?.clientName as string | undefined;
          const logoutAll = await deps.logoutAllOffer?.(ctx.oidc.session?.accountId);
          htmlBody(ctx, 200, logoutPage({ branding: deps.branding, providerForm: form, ...(clientName ? { clientName } : {}), ...(logoutAll ? { logoutAll } : {}) }));
        },
        postLogoutSuccessSource: async (ctx) => htmlBody(ctx, 200, loggedOutPage(deps.branding)),
      },
    },
    // Refresh tokens for every client allowed the grant; rotated on every use, so a stolen one is detected on reuse.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: ttl.accessTokenSeconds,
      AuthorizationCode: ttl.authorizationCodeSeconds,
      IdToken: ttl.idTokenSeconds,
      RefreshToken: ttl.refreshTokenSeconds,
      Interaction: ttl.interactionSeconds,
      Grant: ttl.grantSeconds,
      Session: config.session.ttlSeconds,
      ClientCredentials: ttl.clientCredentialsSeconds,
    },
    // oidc-provider refuses outbound calls to loopback and private addresses (SSRF). Relying parties on an intranet
    // need them, and only administrators register callback URLs, so an operator may lift that with one knob.
    ...(config.oidc.allowPrivateNetworkRequests
      ? { fetch: (url: string | URL | Request, options?: RequestInit) => {
        const { dispatcher: _ssrfGuard, ...rest } = (options ?? {}) as RequestInit & { dispatcher?: unknown };
        return globalThis.fetch(url, rest);
      } }
      : {}),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPolicyFor() },
    // The SAML bridge is part of the IdP itself: a static client (never in the store), and no consent page for it.
    ...(deps.samlBridgeClient ? { clients: [deps.samlBridgeClient as never] } : {}),
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if (!deps.samlBridgeClient || clientId !== deps.samlBridgeClient.client_id || !ctx.oidc.session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    renderError: async (ctx, out) => {
      const message = PUBLIC_ERROR_TEXT[out.error] ?? (typeof out.error_description === 'string'
        ? out.error_description : 'The request could not be completed.');
      htmlBody(ctx, ctx.status >= 400 ? ctx.status : 400, errorPage({ branding: deps.branding, status: ctx.status >= 400 ? ctx.status : 400, message }));
    },
  };
}

export function createProvider(deps: ProviderDeps): Provider {
  const provider = new Provider(deps.issuer, buildProviderConfiguration(deps));
  provider.proxy = deps.config.http.trustProxy;
  routeProviderIds(provider, deps.config.node.index);
  // Client secrets are stored as SHA-256 digests (see client-metadata.ts): compare the digest of what is presented.
  provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret?: string }, actual: string) {
    return typeof this.clientSecret === 'string' && clientSecretMatches(this.clientSecret, actual);
  } as never;
  provider.use(inactiveForDisabledAccounts(deps.users));
  return provider;
}

/**
 * Introspection answers from the token alone, so a user disabled or removed after sign-in would keep "active" access
 * tokens until they expire, while userinfo and refresh already refuse them. Resource servers must see the same.
 */
function inactiveForDisabledAccounts(users: UserStore) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const body = ctx.body as { active?: boolean; sub?: string; token_type?: string } | undefined;
    if (ctx.oidc?.route !== 'introspection' || !body?.active || !body.sub) return;
    const user = await users.getById(body.sub);
    if (!user || user.disabled) ctx.body = { active: false };
  };
}
