// Console sign-in sessions: a small signed token in the `cohort_console` cookie, HMAC-SHA256 over
// { session id, user id, username, issued, last seen }, valid 8 hours at most and 30 minutes idle.
//
// Why a signed token and not the interRequest state service: the console is one process, so nothing needs sharing;
// interRequest may live in browser cookies (state.backend.interRequest = cookie) or on peers, and the console must
// keep working when the cluster is degraded or read-only, which is exactly when an administrator needs it. The key is
// random per process: a restart signs administrators out, which is also what makes the in-memory sign-out list
// complete (a token signed out before a restart can never verify again).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { appendSetCookie, currentRequest } from '../../http/request-context.js';

export const CONSOLE_COOKIE = 'cohort_console';
/** The cookie goes to the pages and to the JSON API only; every other path on the host never sees it. */
export const CONSOLE_COOKIE_PATHS = ['/console', '/admin/api'] as const;
export const CSRF_HEADER = 'x-cohort-csrf';

export const ABSOLUTE_TTL_MS = 8 * 60 * 60 * 1000;
export const IDLE_TTL_MS = 30 * 60 * 1000;
/** "Last seen" is refreshed (a new cookie) at most this often. */
const REFRESH_AFTER_MS = 60 * 1000;
const MAX_SIGNED_OUT = 10_000;

export interface ConsoleSession {
  /** Random session id (base64url, 128 bits): what sign-out revokes and what CSRF tokens are bound to. */
  sid: string;
  userId: string;
  username: string;
  /** Issued, epoch ms. */
  iat: number;
  /** Last seen, epoch ms. */
  seen: number;
}

export class ConsoleSessions {
  readonly #key: Buffer;
  readonly #now: () => number;
  /** Signed-out session ids until their absolute expiry. */
  readonly #signedOut = new Map<string, number>();

  constructor(options: { key?: Buffer; now?: () => number } = {}) {
    this.#key = options.key ?? randomBytes(32);
    this.#now = options.now ?? Date.now;
  }

  #mac(purpose: string, data: string): string {
    return createHmac('sha256', this.#key).update(`${purpose}\0${data}`).digest('base64url');
  }

  #encode(s: ConsoleSession): string {
    const body = Buffer.from(JSON.stringify([s.sid, s.userId, s.username, s.iat, s.seen])).toString('base64url');
    return `${body}.${this.#mac('session', body)}`;
  }

  issue(user: { id: string; username: string }): { session: ConsoleSession; token: string } {
    const now = this.#now();
    const session: ConsoleSession = { sid: randomBytes(16).toString('base64url'), userId: user.id, username: user.username, iat: now, seen: now };
    return { session, token: this.#encode(session) };
  }

  /** The session in a cookie value when its signature, age, idle time and sign-out status allow it. */
  verify(token: string | undefined): ConsoleSession | undefined {
    if (!token || token.length > 1024) return undefined;
    const dot = token.indexOf('.');
    if (dot < 1) return undefined;
    const body = token.slice(0, dot);
    const expected = Buffer.from(this.#mac('session', body));
    const given = Buffer.from(token.slice(dot + 1));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (!Array.isArray(fields) || fields.length !== 5) return undefined;
    const [sid, userId, username, iat, seen] = fields as [string, string, string, number, number];
    if (typeof sid !== 'string' || typeof userId !== 'string' || typeof username !== 'string'
      || typeof iat !== 'number' || typeof seen !== 'number') return undefined;
    const now = this.#now();
    if (now - iat > ABSOLUTE_TTL_MS || now - seen > IDLE_TTL_MS || this.#signedOut.has(sid)) return undefined;
    return { sid, userId, username, iat, seen };
  }

  /** A fresher cookie value when "last seen" is old enough to be worth refreshing, else undefined. */
  refreshed(session: ConsoleSession): string | undefined {
    const now = this.#now();
    if (now - session.seen < REFRESH_AFTER_MS) return undefined;
    return this.#encode({ ...session, seen: now });
  }

  signOut(session: ConsoleSession): void {
    const now = this.#now();
    for (const [sid, until] of this.#signedOut) if (until < now) this.#signedOut.delete(sid);
    // Bounded: if full, the oldest entry goes (its token expires within hours anyway).
    if (this.#signedOut.size >= MAX_SIGNED_OUT) this.#signedOut.delete(this.#signedOut.keys().next().value!);
    this.#signedOut.set(session.sid, session.iat + ABSOLUTE_TTL_MS);
  }

  /** The form / header CSRF token of a session. */
  csrfToken(session: ConsoleSession): string {
    return this.#mac('csrf', session.sid);
  }

  checkCsrf(session: ConsoleSession, token: string | undefined): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.csrfToken(session));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** CSRF token of the sign-in form, bound to a random nonce kept in a short-lived cookie (double submit). */
  loginToken(nonce: string): string {
    return this.#mac('login', nonce);
  }

  checkLoginToken(nonce: string | undefined, token: string | undefined): boolean {
    if (!nonce || !token) return false;
    const expected = Buffer.from(this.loginToken(nonce));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function secure(): string {
  return currentRequest()?.secure ? '; Secure' : '';
}

/** Sets (or, with value '', clears) the session cookie on both of its paths. */
export function setSessionCookie(res: ServerResponse, value: string): void {
  for (const path of CONSOLE_COOKIE_PATHS) {
    appendSetCookie(res, `${CONSOLE_COOKIE}=${value}; Path=${path}; HttpOnly; SameSite=Strict${secure()}${value ? '' : '; Max-Age=0'}`);
  }
}

export const LOGIN_NONCE_COOKIE = 'cohort_console_login';

export function setLoginNonceCookie(res: ServerResponse, value: string): void {
  appendSetCookie(res, `${LOGIN_NONCE_COOKIE}=${value}; Path=/console/login; HttpOnly; SameSite=Strict; Max-Age=${value ? 1800 : 0}${secure()}`);
}
