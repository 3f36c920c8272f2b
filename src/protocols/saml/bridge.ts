// How a SAML sign-in reuses the OpenID Connect session: the SSO endpoint sends the browser through oidc-provider's
// own authorization endpoint as a built-in client, then reads the authorization code it gets back. So one SSO
// session (one cookie, one record in the session store) serves both protocols, and the sign-in page, lockout,
// session limit, ForceAuthn (prompt=login) and IsPassive (prompt=none) behave exactly as they do for OIDC.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { JsonObject, StateServices } from '../../state/types.js';
import { readCookie } from '../../http/cookies.js';
import { routedId } from '../../state/routed-id.js';
import { SamlError } from './errors.js';

export const BRIDGE_CLIENT_ID = 'cohort-saml';
const COOKIE = 'cohort_saml';
const MAX_PENDING_IN_COOKIE = 4;

/** The built-in client, registered as a static client of oidc-provider (never stored, never listed). */
export function bridgeClientMetadata(issuer: string) {
  return {
    client_id: BRIDGE_CLIENT_ID,
    client_name: 'SAML single sign-on',
    token_endpoint_auth_method: 'none',
    redirect_uris: [`${issuer}/saml/continue`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  };
}

export interface SignedIn {
  accountId: string;
  sessionId: string;
  /**
   * The session's uid: unlike its id, which oidc-provider renews at every return from the sign-in or consent pages,
   * it stays the same for the session's whole life, so the registry and SessionIndex values are keyed by it.
   */
  sessionUid: string;
  /** Epoch seconds of the authentication. */
  authTime: number;
}

export type BridgeOutcome<P> =
  | { pending: P; signedIn: SignedIn }
  | { pending: P; error: string };

function cookieValues(req: IncomingMessage): string[] {
  const value = readCookie(req, COOKIE);
  return value ? decodeURIComponent(value).split(' ').filter(Boolean) : [];
}

export class SamlBridge<P extends JsonObject> {
  constructor(
    private readonly deps: {
      provider: Provider; state: StateServices; issuer: string; nodeIndex: number; ttlMs: number; secure: () => boolean;
    },
  ) {}

  get continueUrl(): string {
    return `${this.deps.issuer}/saml/continue`;
  }

  /**
   * Keeps `pending` (what to answer once the user is known) and sends the browser to the authorization endpoint.
   * The pending id also goes into a cookie, so the continuation only completes in the browser that started it:
   * a link with someone else's code cannot sign a victim in to an SP as the attacker.
   */
  async begin(req: IncomingMessage, res: ServerResponse, pending: P, options: { forceAuthn: boolean; isPassive: boolean }): Promise<void> {
    const id = routedId(this.deps.nodeIndex, randomBytes(24).toString('base64url'));
    const verifier = randomBytes(32).toString('base64url');
    await this.deps.state.interRequest.put(`saml:${id}`, { pending, verifier }, Date.now() + this.deps.ttlMs);
    const query = new URLSearchParams({
      client_id: BRIDGE_CLIENT_ID, redirect_uri: this.continueUrl, response_type: 'code', scope: 'openid', state: id,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    });
    if (options.isPassive) query.set('prompt', 'none');
    else if (options.forceAuthn) {
      query.set('prompt', 'login');
      query.set('max_age', '0');
    }
    const kept = [id, ...cookieValues(req).filter((v) => v !== id)].slice(0, MAX_PENDING_IN_COOKIE);
    res.setHeader('Set-Cookie', `${COOKIE}=${encodeURIComponent(kept.join(' '))}; Path=/saml/; HttpOnly; SameSite=Lax; Max-Age=${Math.ceil(this.deps.ttlMs / 1000)}${this.deps.secure() ? '; Secure' : ''}`);
    res.statusCode = 303;
    res.setHeader('Location', `${this.deps.issuer}/auth?${query}`);
    res.setHeader('Cache-Control', 'no-store');
    res.end();
  }

  /** Takes the pending request back and, on success, the signed-in session the authorization code names. */
  async finish(req: IncomingMessage, url: URL): Promise<BridgeOutcome<P>> {
    const id = url.searchParams.get('state') ?? '';
    if (!/^[A-Za-z0-9_-]{20,64}\.[0-9a-z]{1,4}$/.test(id) || !cookieValues(req).includes(id)) {
      throw new SamlError(400, 'SAML_CONTINUE', 'This sign-in was not started in this browser, or it has expired. Go back to the application and try again.');
    }
    const stored = await this.deps.state.interRequest.get(`saml:${id}`);
    if (!stored) throw new SamlError(400, 'SAML_CONTINUE', 'This sign-in has expired or was already completed. Go back to the application and try again.');
    await this.deps.state.interRequest.delete(`saml:${id}`);
    const pending = stored.pending as P;
    const error = url.searchParams.get('error');
    if (error) return { pending, error };
    const codeValue = url.searchParams.get('code') ?? '';
    const code = codeValue.length > 0 && codeValue.length < 200 ? await this.deps.provider.AuthorizationCode.find(codeValue) : undefined;
    const challenge = createHash('sha256').update(String(stored.verifier)).digest('base64url');
    if (!code || code.isExpired || code.clientId !== BRIDGE_CLIENT_ID || code.redirectUri !== this.continueUrl
      || code.codeChallenge !== challenge || !code.accountId || !code.sessionUid) {
      throw new SamlError(400, 'SAML_CONTINUE', 'The sign-in could not be completed. Go back to the application and try again.');
    }
    // Atomic: a second use of the same code fails here (the adapter's consume is the state service's).
    await code.consume();
    const session = await this.deps.state.sessions.findByUid(code.sessionUid);
    if (!session || session.userId !== code.accountId) {
      throw new SamlError(400, 'SAML_CONTINUE', 'Your session ended before the sign-in completed. Try again.');
    }
    return { pending, signedIn: { accountId: code.accountId, sessionId: session.id, sessionUid: session.uid, authTime: Number(code.authTime ?? Math.floor(Date.now() / 1000)) } };
  }
}
