// The SAML IdP's HTTP surface, built from the node's runtime configuration. Every refusal of a SAML message is a
// 4xx with a clear message (an HTML page for browsers, a SOAP Fault for back-channel calls); nothing an SP or a
// browser sends can take the node down.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { CohortConfig } from '../../config/types.js';
import type { Participant, SessionRecord, StateServices } from '../../state/types.js';
import type { KeyRecord, ServiceProviderStore, UserStore } from '../../store/types.js';
import type { Route } from '../../http/router.js';
import type { Logger } from '../../ops/logger.js';
import type { SessionTerminator, SamlLogoutHook } from '../oidc/session-termination.js';
import { HttpError } from '../../http/errors.js';
import { currentRequest } from '../../http/request-context.js';
import { ArtifactResolution } from './artifact-resolution.js';
import { frontChannelLogoutEndpoint, soapLogout, soapLogoutEndpoint } from './back-channel-logout.js';
import { certificateForKey, privateKeyPem } from './certificate.js';
import { isSamlError } from './errors.js';
import { SamlIdp } from './idp.js';
import { deriveIdpSecrets } from './idp-secrets.js';
import { SingleLogout } from './logout.js';
import { idpMetadata } from './metadata.js';
import { SsoEndpoints } from './sso.js';

export interface SamlLayerDeps {
  config: CohortConfig;
  issuer: string;
  provider: Provider;
  state: StateServices;
  users: UserStore;
  serviceProviders: Pick<ServiceProviderStore, 'get' | 'list'>;
  /** Live signing keys as stored (RS256 ones are used). */
  signingKeys: KeyRecord[];
  /** The first cookie key (base64url): the root of the IdP's derived secrets. */
  cookieKey: string;
  terminator: SessionTerminator;
  logger: Logger;
}

export interface SamlLayer {
  routes: Route[];
  /** For the session terminator: how to reach one SAML participant when a session ends without a browser. */
  logoutHook: SamlLogoutHook;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

function urlOf(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://cohort.invalid');
}

/** SAML refusals become HTTP errors the router renders (their messages are written for users). */
function guarded(handler: Handler): Route['handle'] {
  return async (req, res) => {
    try {
      await handler(req, res, urlOf(req));
    } catch (err) {
      if (isSamlError(err)) throw new HttpError(err.status, err.code, err.message, err.status < 500, { cause: err });
      if ((err as { name?: string }).name === 'InvalidGrant') {
        throw new HttpError(400, 'SAML_CONTINUE', 'The sign-in could not be completed. Go back to the application and try again.');
      }
      throw err;
    }
  };
}

/**
 * SAML signs with the OLDEST live RS256 key and announces the newer ones in metadata: SPs pin certificates, so a
 * new key must be in their metadata before it signs anything. Retiring the old key completes the rollover.
 */
function signingKeyOf(keys: KeyRecord[]): { current: KeyRecord; next: KeyRecord[] } {
  const rsa = keys.filter((k) => !k.retired && k.alg === 'RS256').sort((a, b) => a.createdAt - b.createdAt || a.kid.localeCompare(b.kid));
  if (rsa.length === 0) throw new Error('SAML needs a live RS256 signing key; none is in the key store');
  return { current: rsa[0]!, next: rsa.slice(1) };
}

export function createSamlLayer(deps: SamlLayerDeps): SamlLayer {
  const { current, next } = signingKeyOf(deps.signingKeys);
  const jwk = JSON.parse(current.material) as Record<string, unknown>;
  const cert = certificateForKey(jwk, current.createdAt);
  const nextCerts = next.map((k) => certificateForKey(JSON.parse(k.material) as Record<string, unknown>, k.createdAt));
  const idp = new SamlIdp({
    config: deps.config.saml, issuer: deps.issuer, nodeIndex: deps.config.node.index,
    signing: { key: privateKeyPem(jwk), cert }, secrets: deriveIdpSecrets(Buffer.from(deps.cookieKey, 'base64url')),
    serviceProviders: deps.serviceProviders, users: deps.users, state: deps.state, provider: deps.provider,
    logger: deps.logger, sessionTtlMs: deps.config.session.ttlSeconds * 1000, maxBodyBytes: deps.config.http.maxBodyBytes,
  });
  const secure = () => currentRequest()?.secure ?? deps.issuer.startsWith('https:');
  const sso = new SsoEndpoints(idp, secure);
  const artifacts = new ArtifactResolution(idp);
  const currentSession = async (req: IncomingMessage, res: ServerResponse): Promise<SessionRecord | undefined> => {
    const provider = deps.provider as unknown as {
      createContext(req: IncomingMessage, res: ServerResponse): unknown;
      Session: { get(ctx: unknown): Promise<{ id: string; accountId?: string }> };
    };
    const session = await provider.Session.get(provider.createContext(req, res));
    return session.accountId ? deps.state.sessions.get(session.id) : undefined;
  };
  const logout = new SingleLogout(idp, async (session, except) => {
    const ended = await deps.terminator.terminate(session, 'saml-logout', undefined, except ? { except } : {});
    return { frontChannel: ended.frontChannel, failed: ended.failed };
  }, currentSession);
  const metadata = idpMetadata({
    entityId: idp.entityId, baseUrl: deps.issuer, signingCert: cert, nextSigningCerts: nextCerts,
    artifactEndpoints: idp.artifactEndpoints,
  });

  const routes: Route[] = [
    { name: 'saml.metadata', method: 'GET', path: /^\/saml\/metadata$/, handle: async (_req, res) => {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/samlmetadata+xml');
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.end(metadata);
    } },
    { name: 'saml.sso', method: 'GET', path: /^\/saml\/sso$/, handle: guarded((q, s, u) => sso.request(q, s, u)) },
    { name: 'saml.sso', method: 'POST', path: /^\/saml\/sso$/, handle: guarded((q, s, u) => sso.request(q, s, u)) },
    { name: 'saml.idp_initiated', method: 'GET', path: /^\/saml\/init$/, handle: guarded((q, s, u) => sso.idpInitiated(q, s, u)) },
    { name: 'saml.continue', method: 'GET', path: /^\/saml\/continue$/, handle: guarded((q, s, u) => sso.continue(q, s, u)) },
    { name: 'saml.artifact', method: 'POST', path: /^\/saml\/artifact$/, handle: guarded((q, s) => artifacts.resolve(q, s)) },
    { name: 'saml.slo', method: 'GET', path: /^\/saml\/slo$/, handle: guarded((q, s, u) => logout.frontChannel(q, s, u)) },
    { name: 'saml.slo', method: 'POST', path: /^\/saml\/slo$/, handle: guarded((q, s, u) => logout.frontChannel(q, s, u)) },
    { name: 'saml.slo_soap', method: 'POST', path: /^\/saml\/slo\/soap$/, handle: guarded((q, s) => logout.soap(q, s)) },
    { name: 'saml.logout', method: 'GET', path: /^\/saml\/logout$/, handle: guarded((q, s) => logout.idpInitiated(q, s)) },
  ];

  const logoutHook: SamlLogoutHook = async (p: Participant) => {
    const sp = await deps.serviceProviders.get(p.clientId);
    if (!sp) return 'none';
    if (soapLogoutEndpoint(sp)) return soapLogout(idp, sp, p);
    return frontChannelLogoutEndpoint(sp) ? 'front-channel' : 'none';
  };
  return { routes, logoutHook };
}
