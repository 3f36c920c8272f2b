// The HTTP exchange being served, available to code deep below the HTTP layer without threading it through every
// call: the session adapter records the client's address, and the cookie-mode inter-request store reads and writes
// its cookie. AsyncLocalStorage follows the request through oidc-provider's middleware and every await.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Client address as the lockout and audit log see it (http.trustProxy applied). */
  source: string;
  /** True when the browser reached us over HTTPS (directly or through a trusted proxy): cookies get Secure. */
  secure: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The exchange being served, or undefined outside a request (CLI, timers, back-channel handlers). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** Appends a Set-Cookie header without clobbering the ones oidc-provider or other code already set. */
export function appendSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}
