// The baseline: oidc-provider alone, run as its own process by bench/bare-target.ts. Same protocol features as
// Cohort (client_credentials, introspection, revocation, PKCE, rotated refresh tokens issued to every client allowed
// the grant, the same scopes and the same RS256/ES256 key sizes), but oidc-provider's default in-memory adapter, one
// static client, a fixed account and a minimal sign-in round trip whose password check is a plain comparison. The
// difference to Cohort is the price of Cohort's own layers: password hashing, stores, state services, pages.
//
// Configuration comes from the environment (BENCH_*); on start it prints one JSON line {"event":"bare.started",url}.
import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';

const ACCOUNT_ID = 'bench-account';
const MAX_FORM_BYTES = 64 * 1024;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function signingKeys(): Array<Record<string, unknown>> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...rsa, alg: 'RS256', use: 'sig', kid: 'rs' }, { ...ec, alg: 'ES256', use: 'sig', kid: 'es' }];
}

function configuration(): Configuration {
  return {
    clients: [{
      client_id: required('BENCH_CLIENT_ID'), client_secret: required('BENCH_CLIENT_SECRET'),
      redirect_uris: [required('BENCH_REDIRECT_URI')], response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: signingKeys() as never },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: 'Bench User', preferred_username: 'bench-user', email: 'bench@example.org', email_verified: false, groups: [] }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    // As Cohort: refresh tokens for every client allowed the grant (not only with offline_access), rotated on use.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };
}

// CSRF tokens bound to the interaction, as Cohort's (an HMAC, no server-side state), so both do the same work.
const csrfKey = randomBytes(32);
const csrf = (purpose: string, uid: string) => createHmac('sha256', csrfKey).update(`${purpose}\0${uid}`).digest('base64url');
function csrfValid(purpose: string, uid: string, token: string | null): boolean {
  const expected = Buffer.from(csrf(purpose, uid));
  const given = Buffer.from(token ?? '');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function page(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

const form = (action: string, token: string, fields: string) =>
  `<form method="post" action="${action}"><input type="hidden" name="csrf" value="${token}">${fields}<button>Continue</button></form>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(provider: Provider, req: IncomingMessage, res: ServerResponse, uid: string, step: string | undefined): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'wrong interaction');
  const prompt = details.prompt.name;
  if (step === undefined) {
    if (prompt === 'login') return page(res, 200, form(`/interaction/${uid}/login`, csrf('login', uid), '<input name="username"><input type="password" name="password">'));
    return page(res, 200, form(`/interaction/${uid}/confirm`, csrf('consent', uid), ''));
  }
  const fields = await readForm(req);
  if (step === 'login' && prompt === 'login' && csrfValid('login', uid, fields.get('csrf'))) {
    // Deliberately not hashed: the baseline shows what a sign-in costs without a password hash.
    if (fields.get('username') !== required('BENCH_USERNAME') || fields.get('password') !== required('BENCH_PASSWORD')) {
      return page(res, 401, form(`/interaction/${uid}/login`, csrf('login', uid), '<input name="username"><input type="password" name="password">'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: ACCOUNT_ID } }, { mergeWithLastSubmission: false });
  }
  if (step === 'confirm' && prompt === 'consent' && csrfValid('consent', uid, fields.get('csrf'))) {
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session?.accountId, clientId: details.params.client_id as string });
    if (!grant) return page(res, 400, 'grant expired');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return page(res, 403, 'refused');
}

async function main(): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(url, configuration());
  const callback = provider.callback();
  const route = /^\/interaction\/([A-Za-z0-9_-]{10,64})(?:\/(login|confirm))?$/;
  server.keepAliveTimeout = 5_000; // as Cohort's listener
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = route.exec(new URL(req.url ?? '/', url).pathname);
    if (!match || (req.method === 'POST') !== (match[2] !== undefined)) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, match[1]!, match[2]).catch((err: Error) => {
      if (!res.headersSent) page(res, 500, 'error');
      process.stderr.write(`interaction failed: ${err.message}\n`);
    });
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ event: 'bare.started', url })}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bare provider failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
