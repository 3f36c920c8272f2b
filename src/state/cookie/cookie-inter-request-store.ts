// Login-transaction state kept in the browser (state.backend.interRequest = cookie): each record is one encrypted
// cookie, so the nodes share nothing for it but the key ring. The store reads and writes the HTTP exchange being
// served (request-context.ts); outside one it cannot work and says so.
//
// Within one exchange oidc-provider may save a record and read it back (or delete it) before the browser has seen
// the new cookie, so writes are also kept per request (keyed by the request object, gone with it) and reads see
// them first.
//
// A cookie is the browser's copy: delete() expires it, but a copy taken before stays readable until the record's
// own expiry (oidc-provider's interactions: oidc.ttl.interactionSeconds). Its contents are confidential and bound to
// their id; their single use is up to the protocol flow (oidc-provider binds an interaction to the browser session).
import { requestCookies } from '../../http/cookies.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentRequest, type RequestContext } from '../../http/request-context.js';
import { systemClock, type Clock, type InterRequestStore, type JsonObject } from '../types.js';
import { CookieTooLargeError, MAX_COOKIE_BYTES, cookieName, openRecord, sealRecord } from './cookie-codec.js';
import type { CookieKey } from './key-ring.js';

/** What the store needs from the key ring. */
export interface CookieKeySource {
  current(): CookieKey;
  find(kid: string): CookieKey | undefined;
}

export interface CookieInterRequestOptions {
  keys: CookieKeySource;
  clock?: Clock;
}

export class CookieInterRequestStore implements InterRequestStore {
  readonly #keys: CookieKeySource;
  readonly #clock: Clock;
  /** Cookies this response already set (value) or expired (null), by request: read back before the browser has them. */
  readonly #written = new WeakMap<IncomingMessage, Map<string, string | null>>();

  constructor(options: CookieInterRequestOptions) {
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
  }

  async put(id: string, payload: JsonObject, expiresAt: number): Promise<void> {
    const context = exchange('put');
    const now = this.#clock.now();
    if (!(expiresAt > now)) {
      await this.delete(id);
      return;
    }
    const name = cookieName(id);
    const value = sealRecord(this.#keys.current(), id, payload, expiresAt);
    const bytes = name.length + 1 + value.length;
    if (bytes > MAX_COOKIE_BYTES) throw new CookieTooLargeError(bytes);
    const maxAge = Math.max(1, Math.ceil((expiresAt - now) / 1000));
    this.#setCookie(context, name, value, maxAge);
  }

  async get(id: string): Promise<JsonObject | undefined> {
    const { req } = exchange('get');
    const name = cookieName(id);
    const written = this.#written.get(req)?.get(name);
    const candidates = written === null ? [] : written !== undefined ? [written] : requestCookies(req, name);
    const now = this.#clock.now();
    for (const value of candidates) {
      const payload = openRecord(value, id, (kid) => this.#keys.find(kid)?.key, now);
      if (payload) return payload;
    }
    return undefined;
  }

  async delete(id: string): Promise<void> {
    const context = exchange('delete');
    const name = cookieName(id);
    const written = this.#written.get(context.req)?.get(name);
    // Nothing to expire when the browser never sent it and this response did not set it: no needless header.
    if (written === null || (written === undefined && requestCookies(context.req, name).length === 0)) return;
    this.#setCookie(context, name, null, 0);
  }

  #setCookie(context: RequestContext, name: string, value: string | null, maxAge: number): void {
    const { req, res, secure } = context;
    if (res.headersSent) {
      throw new Error('cookie-mode login-transaction state was written after the response headers were sent');
    }
    const attributes = `Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
    replaceSetCookie(res, name, `${name}=${value ?? ''}; ${attributes}`);
    let written = this.#written.get(req);
    if (!written) this.#written.set(req, (written = new Map()));
    written.set(name, value);
  }
}

function exchange(operation: string): RequestContext {
  const context = currentRequest();
  if (!context) {
    throw new Error(`interRequest.${operation}: state.backend.interRequest = cookie keeps login-transaction state in `
      + 'browser cookies, so it only works while an HTTP request is being served (no request here); use the peer '
      + 'or local backend for state written outside a request');
  }
  return context;
}

/** Sets one cookie, dropping an earlier Set-Cookie of the same name from this response (the last write wins). */
function replaceSetCookie(res: ServerResponse, name: string, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  res.setHeader('Set-Cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), cookie]);
}
