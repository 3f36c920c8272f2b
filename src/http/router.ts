// The node's request handler: our routes first (status, metrics, interactions, assets), then oidc-provider for every
// protocol endpoint. Applies baseline headers and the body-size limit to everything, and turns thrown errors into
// pages or JSON without leaking internals.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setBaselineHeaders } from './headers.js';
import { payloadTooLarge } from './errors.js';
import { sendError } from './respond.js';
import { runInRequestContext } from './request-context.js';
import { clientAddress } from './client-address.js';

export interface Route {
  /** Label for metrics and logs, e.g. 'interaction.login'. */
  name: string;
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  path: RegExp;
  handle(req: IncomingMessage, res: ServerResponse, params: string[]): Promise<void>;
}

export interface RequestObserver {
  /** Called once per request when the response is finished. */
  finished(info: { route: string; method: string; status: number; seconds: number }): void;
  failed(err: unknown, info: { route: string; method: string; url: string }): void;
}

export interface RouterOptions {
  routes: Route[];
  /** Everything no route matched (oidc-provider's callback). */
  fallback: (req: IncomingMessage, res: ServerResponse) => unknown;
  maxBodyBytes: number;
  observer: RequestObserver;
  /** Honour X-Forwarded-* from a trusted proxy (http.trustProxy). */
  trustProxy: boolean;
}

/** Metric labels for oidc-provider's endpoints, so /token and /auth can be told apart. */
const PROTOCOL_ROUTES: Array<[RegExp, string]> = [
  [/^\/auth(\/|$)/, 'oidc.authorization'], [/^\/token\/introspection$/, 'oidc.introspection'],
  [/^\/token\/revocation$/, 'oidc.revocation'], [/^\/token$/, 'oidc.token'], [/^\/me$/, 'oidc.userinfo'],
  [/^\/jwks$/, 'oidc.jwks'], [/^\/session\/end/, 'oidc.end_session'], [/^\/\.well-known\//, 'oidc.discovery'],
  [/^\/request$/, 'oidc.par'],
];

function protocolRoute(pathname: string): string {
  return PROTOCOL_ROUTES.find(([re]) => re.test(pathname))?.[1] ?? 'oidc.other';
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createRouter(options: RouterOptions) {
  const dispatch = createDispatcher(options);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const forwardedProto = options.trustProxy ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() : '';
    const secure = forwardedProto === 'https' || Boolean((req.socket as { encrypted?: boolean }).encrypted);
    runInRequestContext({ req, res, source: clientAddress(req, options.trustProxy), secure }, () => dispatch(req, res));
  };
}

function createDispatcher(options: RouterOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    let routeName = 'oidc';
    res.on('finish', () => {
      options.observer.finished({
        route: routeName, method, status: res.statusCode, seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
    });
    setBaselineHeaders(res);

    const fail = (err: unknown) => {
      options.observer.failed(err, { route: routeName, method, url: req.url ?? '' });
      sendError(req, res, err);
    };

    if (!KNOWN_METHODS.has(method)) {
      res.statusCode = 405;
      res.end();
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > options.maxBodyBytes) {
      // Refuse before anything reads the body; keep-alive would otherwise have to drain it.
      fail(payloadTooLarge(options.maxBodyBytes));
      return;
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    for (const route of options.routes) {
      if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) continue;
      const match = route.path.exec(pathname);
      if (!match) continue;
      routeName = route.name;
      route.handle(req, res, match.slice(1)).catch(fail);
      return;
    }
    routeName = protocolRoute(pathname);
    try {
      Promise.resolve(options.fallback(req, res)).catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}
