// The three measured operations, written once against a Target so that Cohort and the bare server run exactly the
// same client code. Every operation checks its answer: a success is a real token, not merely an HTTP 200.
import { createHash, randomBytes } from 'node:crypto';
import { Browser } from '../test/support/browser.js';
import { signIn } from '../test/support/signin.js';
import type { WorkerState, Workload } from './load.js';
import { TokenEndpoint } from './token-endpoint.js';

/** A running server with one confidential client and one user, whichever implementation it is. */
export interface Target {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  username: string;
  password: string;
}

/** Endpoints from discovery, so neither server's URL layout is assumed. */
export interface Endpoints {
  authorization: string;
  token: string;
}

export async function discoverEndpoints(issuer: string): Promise<Endpoints> {
  const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`discovery at ${issuer} answered ${res.status}`);
  const meta = await res.json() as { authorization_endpoint: string; token_endpoint: string };
  return { authorization: meta.authorization_endpoint, token: meta.token_endpoint };
}

const SCOPE = 'openid profile email';
const b64url = (bytes: Buffer) => bytes.toString('base64url');

/** A fresh authorization request URL (code, S256 PKCE, state, nonce) with its state and PKCE verifier. */
export function authorizationRequest(target: Target, endpoints: Endpoints): { url: URL; state: string; verifier: string } {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const url = new URL(endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: target.clientId, response_type: 'code', redirect_uri: target.redirectUri, scope: SCOPE, state,
    nonce: b64url(randomBytes(16)), code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { url, state, verifier };
}

/**
 * One full browser sign-in with a fresh cookie jar (so never SSO): authorization URL, sign-in page, form post with
 * the CSRF token, consent, redirects up to the RP callback, then the code redeemed with its PKCE verifier.
 */
export async function signInForTokens(target: Target, endpoints: Endpoints, tokens: TokenEndpoint) {
  const { url, state, verifier } = authorizationRequest(target, endpoints);
  const result = await signIn(new Browser(), url.href, target.redirectUri, { username: target.username, password: target.password });
  if (!result.sawLoginPage) throw new Error('no sign-in page was shown: the measurement would not include a sign-in');
  const callback = new URL(result.callbackUrl).searchParams;
  if (callback.get('state') !== state) throw new Error(`callback state mismatch: ${result.callbackUrl.slice(0, 200)}`);
  const code = callback.get('code');
  if (!code) throw new Error(`callback without code: ${result.callbackUrl.slice(0, 200)}`);
  const answer = await tokens.grant({ grant_type: 'authorization_code', code, redirect_uri: target.redirectUri, code_verifier: verifier });
  if (!answer.id_token || !answer.refresh_token) throw new Error('authorization_code: no id_token or refresh_token');
  return answer;
}

export function clientCredentialsWorkload(tokens: TokenEndpoint): Workload {
  return { run: async () => { await tokens.grant({ grant_type: 'client_credentials' }); } };
}

/** Each worker holds one refresh token chain, started by a sign-in; rotation hands back the next link every time. */
export function refreshWorkload(target: Target, endpoints: Endpoints, tokens: TokenEndpoint): Workload {
  return {
    prepare: async (state: WorkerState) => {
      state.refreshToken = (await signInForTokens(target, endpoints, tokens)).refresh_token;
    },
    run: async (state: WorkerState) => {
      const current = state.refreshToken as string;
      const answer = await tokens.grant({ grant_type: 'refresh_token', refresh_token: current });
      if (!answer.refresh_token || answer.refresh_token === current) throw new Error('refresh_token: not rotated');
      state.refreshToken = answer.refresh_token;
    },
  };
}

export function signInWorkload(target: Target, endpoints: Endpoints, tokens: TokenEndpoint): Workload {
  return { run: async () => { await signInForTokens(target, endpoints, tokens); } };
}
