// Who may call the admin API: a bearer API token (admin.apiToken, compared in constant time), an account from
// the user store with the `admin` role over HTTP Basic, or (console node) the web console's session cookie, which
// needs the X-Cohort-CSRF header on every state-changing call. Basic attempts and console sign-ins go through the
// same lockout as the sign-in page, so neither is a way around brute-force protection.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { User, UserStore } from '../store/types.js';
import type { Lockout } from '../auth/lockout.js';
import { HttpError } from '../http/errors.js';
import { CONSOLE_COOKIE, CSRF_HEADER, type ConsoleSession, type ConsoleSessions } from './console/session.js';
import { readCookie } from '../http/cookies.js';

export interface AdminActor {
  /** For the audit log: 'token' or the admin's username. */
  name: string;
  via: 'token' | 'basic' | 'console';
}

export interface AdminAuthDeps {
  apiToken: string;
  users: UserStore;
  lockout: Lockout;
  /** The web console's sessions (console node only); without it the console cookie is ignored. */
  consoleSessions?: ConsoleSessions;
}

const unauthorized = () => new HttpError(401, 'ADMIN_UNAUTHENTICATED',
  'Authenticate with an admin API token (Authorization: Bearer) or an admin account (HTTP Basic).');

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Username and password of an administrator: the lockout is checked first and counts every failure, a good password
 * clears the user's counter. Throws 429 (locked), 401 (wrong) or 403 (no admin role). Used by HTTP Basic on the
 * API and by the console's sign-in page.
 */
export async function verifyAdminCredentials(username: string, password: string, source: string,
  deps: Pick<AdminAuthDeps, 'users' | 'lockout'>): Promise<User> {
  username = username.slice(0, 256);
  if (await deps.lockout.isLocked(username, source)) {
    throw new HttpError(429, 'ADMIN_LOCKED', 'Too many failed attempts. Wait a few minutes and try again.');
  }
  const user = Buffer.byteLength(password) > 1024 ? undefined : await deps.users.verifyPassword(username, password);
  if (!user) {
    await deps.lockout.recordFailure(username, source);
    throw unauthorized();
  }
  await deps.lockout.recordSuccess(username);
  if (!user.roles.includes('admin')) throw adminForbidden();
  return user;
}

const adminForbidden = () => new HttpError(403, 'ADMIN_FORBIDDEN', 'This account does not have the admin role.');

export type ConsoleCheck =
  | { ok: true; session: ConsoleSession; user: User }
  /** No cookie, or one that is forged, expired, idle too long or signed out, or whose account is gone or disabled. */
  | { ok: false; reason: 'none' | 'invalid' }
  /** A valid session of an account that has lost the admin role since it signed in. */
  | { ok: false; reason: 'forbidden'; session: ConsoleSession };

/** The console session a request carries, re-checked against the user store on every request. */
export async function consoleSessionOf(req: IncomingMessage, deps: Pick<AdminAuthDeps, 'users' | 'consoleSessions'>): Promise<ConsoleCheck> {
  const raw = deps.consoleSessions ? readCookie(req, CONSOLE_COOKIE) : undefined;
  if (!raw) return { ok: false, reason: 'none' };
  const session = deps.consoleSessions!.verify(raw);
  if (!session) return { ok: false, reason: 'invalid' };
  const user = await deps.users.getById(session.userId);
  if (!user || user.disabled || user.username !== session.username) return { ok: false, reason: 'invalid' };
  if (!user.roles.includes('admin')) return { ok: false, reason: 'forbidden', session };
  return { ok: true, session, user };
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export async function authenticateAdmin(req: IncomingMessage, source: string, deps: AdminAuthDeps): Promise<AdminActor> {
  const header = req.headers.authorization ?? '';
  const [scheme, value] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value) {
    if (deps.apiToken && sameSecret(value, deps.apiToken)) return { name: 'token', via: 'token' };
    throw unauthorized();
  }
  if (scheme?.toLowerCase() === 'basic' && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw unauthorized();
    const user = await verifyAdminCredentials(decoded.slice(0, colon), decoded.slice(colon + 1), source, deps);
    return { name: user.username, via: 'basic' };
  }
  if (!header && deps.consoleSessions) {
    const check = await consoleSessionOf(req, deps);
    if (check.ok) {
      // Same-origin calls from the console's pages: a state change needs the session's CSRF token in a header, which
      // a cross-site form or image cannot send (the cookie is SameSite=Strict besides).
      if (!SAFE_METHODS.has(req.method ?? 'GET')) {
        const token = req.headers[CSRF_HEADER];
        if (typeof token !== 'string' || !deps.consoleSessions.checkCsrf(check.session, token)) {
          throw new HttpError(403, 'ADMIN_CSRF', `State-changing calls with the console's session cookie need its CSRF token in the ${CSRF_HEADER} header.`);
        }
      }
      return { name: check.user.username, via: 'console' };
    }
    if (check.reason === 'forbidden') throw adminForbidden();
  }
  throw unauthorized();
}
