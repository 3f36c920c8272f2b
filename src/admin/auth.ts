// Who may call the admin API: a bearer API token (admin.apiToken, compared in constant time) or an account from
// the user store with the `admin` role over HTTP Basic. Basic attempts go through the same lockout as the sign-in
// page, so the API is no way around brute-force protection.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { UserStore } from '../store/types.js';
import type { Lockout } from '../auth/lockout.js';
import { HttpError } from '../http/errors.js';

export interface AdminActor {
  /** For the audit log: 'token' or the admin's username. */
  name: string;
  via: 'token' | 'basic';
}

export interface AdminAuthDeps {
  apiToken: string;
  users: UserStore;
  lockout: Lockout;
}

const unauthorized = () => new HttpError(401, 'ADMIN_UNAUTHENTICATED',
  'Authenticate with an admin API token (Authorization: Bearer) or an admin account (HTTP Basic).');

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

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
    const username = decoded.slice(0, colon).slice(0, 256);
    const password = decoded.slice(colon + 1);
    if (await deps.lockout.isLocked(username, source)) {
      throw new HttpError(429, 'ADMIN_LOCKED', 'Too many failed attempts. Wait a few minutes and try again.');
    }
    const user = Buffer.byteLength(password) > 1024 ? undefined : await deps.users.verifyPassword(username, password);
    if (!user) {
      await deps.lockout.recordFailure(username, source);
      throw unauthorized();
    }
    await deps.lockout.recordSuccess(username);
    if (!user.roles.includes('admin')) throw new HttpError(403, 'ADMIN_FORBIDDEN', 'This account does not have the admin role.');
    return { name: user.username, via: 'basic' };
  }
  throw unauthorized();
}
