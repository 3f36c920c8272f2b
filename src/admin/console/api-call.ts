// The console's pages are views over the admin JSON API: every read and every write a page makes is a call to the
// API route itself, in process, with the administrator's own session cookie and CSRF token. So the pages share the
// API's authentication, validation, read-only refusal, audit log and staging with no second copy of any of it, and
// the console can do nothing the API would refuse.
import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../http/router.js';
import { describeError } from '../../http/respond.js';
import { CONSOLE_COOKIE, CSRF_HEADER } from './session.js';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  /** The error code and message of a refusal (4xx/5xx), as the API would answer them. */
  error?: { code: string; message: string };
}

export type ApiCaller = <T = any>(method: Route['method'], path: string, body?: unknown) => Promise<ApiAnswer<T>>;

/** A caller acting as the holder of `cookie` (the console session) with its CSRF token. */
export function apiCaller(routes: Route[], cookie: string, csrf: string, remoteAddress: string | undefined): ApiCaller {
  return async <T>(method: Route['method'], path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const answer = await call(method, path, body);
    return answer as ApiAnswer<T>;
  };

  async function call(method: Route['method'], path: string, body?: unknown): Promise<ApiAnswer<unknown>> {
    const url = new URL(path, 'http://console.invalid');
    const match = routes.map((r) => ({ r, m: r.method === method ? r.path.exec(url.pathname) : null })).find((x) => x.m);
    if (!match) return { status: 404, body: { error: 'NOT_FOUND', message: `No API route ${method} ${url.pathname}.` }, error: { code: 'NOT_FOUND', message: `No API route ${method} ${url.pathname}.` } };
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const req = Readable.from(payload.length ? [payload] : []) as unknown as IncomingMessage;
    Object.assign(req, {
      method, url: url.pathname + url.search,
      headers: {
        cookie: `${CONSOLE_COOKIE}=${cookie}`, [CSRF_HEADER]: csrf, accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
      },
      socket: { remoteAddress },
    });
    const res = new CapturedResponse();
    try {
      await match.r.handle(req, res as unknown as ServerResponse, match.m!.slice(1));
    } catch (err) {
      const { status, code, message } = describeError(err);
      return { status, body: { error: code, message }, error: { code, message } };
    }
    let parsed: unknown = res.body;
    try { parsed = JSON.parse(res.body); } catch { /* not JSON */ }
    if (res.statusCode >= 400) {
      const e = parsed as { error?: string; message?: string };
      return { status: res.statusCode, body: parsed, error: { code: e?.error ?? 'ERROR', message: e?.message ?? 'The request failed.' } };
    }
    return { status: res.statusCode, body: parsed };
  }
}

/** Just enough of a ServerResponse for sendJson. */
class CapturedResponse {
  statusCode = 200;
  body = '';
  readonly headers = new Map<string, unknown>();
  headersSent = false;
  setHeader(name: string, value: unknown): this { this.headers.set(name.toLowerCase(), value); return this; }
  getHeader(name: string): unknown { return this.headers.get(name.toLowerCase()); }
  end(chunk?: string | Buffer): this {
    if (chunk !== undefined) this.body += chunk.toString();
    this.headersSent = true;
    return this;
  }
}
