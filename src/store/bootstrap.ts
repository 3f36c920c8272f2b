// First start of a data directory: signing keys (RS256 and ES256), a cookie key, and the first admin account.
// Idempotent: later starts find everything in place and change nothing.
import { createHash, generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import type { DurableStore, KeyRecord } from './types.js';
import { withBootstrapLock } from './bootstrap-lock.js';

/** RFC 7638 thumbprint, so a kid is stable and derived from the key itself. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

export function generateSigningKey(alg: 'RS256' | 'ES256', now = Date.now()): KeyRecord {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return { kid, use: 'sig', alg, material: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }), createdAt: now, retired: false };
}

export function generateCookieKey(now = Date.now()): KeyRecord {
  const material = randomBytes(32).toString('base64url');
  return { kid: createHash('sha256').update(material).digest('base64url').slice(0, 16), use: 'cookie', alg: 'HS256', material, createdAt: now, retired: false };
}

/** Makes sure one live RS256 key, one live ES256 key and one cookie key exist. */
export async function ensureKeys(store: DurableStore): Promise<{ created: string[] }> {
  const created: string[] = [];
  const signing = (await store.keys.list('sig')).filter((k) => !k.retired);
  for (const alg of ['RS256', 'ES256'] as const) {
    if (!signing.some((k) => k.alg === alg)) {
      await store.keys.add(generateSigningKey(alg));
      created.push(`${alg} signing key`);
    }
  }
  if ((await store.keys.list('cookie')).filter((k) => !k.retired).length === 0) {
    await store.keys.add(generateCookieKey());
    created.push('cookie key');
  }
  return { created };
}

/** A random one-time password: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const byte of bytes) {
    if (byte < 232) out += alphabet[byte % alphabet.length]; // 232 = 4 * 58: no modulo bias
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

/**
 * Creates the first admin when no user has the admin role. The password comes from COHORT_ADMIN_PASSWORD, or is
 * generated, returned to be printed once, and must be changed at first sign-in.
 */
export async function ensureFirstAdmin(
  store: DurableStore,
  username: string,
  envPassword: string | undefined,
): Promise<{ username: string; generatedPassword?: string } | undefined> {
  // Users may be added with the CLI before the first start; what matters is that someone can administer.
  const users = await store.users.list();
  if (users.some((u) => u.roles.includes('admin') || u.username === username)) return undefined;
  const generated = envPassword ? undefined : generatePassword();
  await store.users.create({
    username,
    password: envPassword ?? generated!,
    displayName: 'Administrator',
    roles: ['admin'],
    groups: ['admins'],
    mustChangePassword: generated !== undefined,
  });
  return generated ? { username, generatedPassword: generated } : { username };
}

/**
 * Everything a first start creates, exactly once however many nodes start together: under the store's own lock
 * when it has one (a database several hosts share), else under the data directory's lock file (one host).
 */
export async function bootstrapStore(
  store: DurableStore,
  dataDir: string,
  adminUsername: string,
  envPassword: string | undefined,
  /** false when users live elsewhere (an LDAP directory), where Cohort cannot create anyone. @default true */
  firstAdmin = true,
): Promise<{ keys: { created: string[] }; admin: Awaited<ReturnType<typeof ensureFirstAdmin>> }> {
  const work = async () => ({
    keys: await ensureKeys(store),
    admin: firstAdmin ? await ensureFirstAdmin(store, adminUsername, envPassword) : undefined,
  });
  return store.withLock ? store.withLock('bootstrap', work) : withBootstrapLock(dataDir, work);
}
