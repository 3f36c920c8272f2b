// One admin API route: authentication (authenticateAdmin, the one place that decides who is an admin), the refusal
// log line, JSON bodies, and the read-only rule for configuration writes. Every console API route is built here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../http/router.js';
import { HttpError } from '../http/errors.js';
import { readJson } from '../http/body.js';
import { currentRequest } from '../http/request-context.js';
import type { Logger } from '../ops/logger.js';
import { authenticateAdmin, type AdminActor, type AdminAuthDeps } from './auth.js';

export interface AdminRouteDeps extends AdminAuthDeps {
  logger: Logger;
  maxBodyBytes: number;
  /** Why cluster-wide writes are refused now (quorum lost), or undefined. */
  readOnlyReason(): string | undefined;
}

export interface AdminCall {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  actor: AdminActor;
  url: URL;
  /** The JSON body (415 unless application/json, 400 unless valid JSON). */
  body(): Promise<unknown>;
}

export interface AdminRouteSpec {
  name: string;
  method: Route['method'];
  path: RegExp;
  /** A configuration write: refused with 409 CLUSTER_READ_ONLY while the cluster is read-only. */
  write?: boolean;
  handle(call: AdminCall): Promise<void>;
}

export function adminRoutes(deps: AdminRouteDeps, specs: AdminRouteSpec[]): Route[] {
  return specs.map((spec) => ({
    name: `admin.${spec.name}`, method: spec.method, path: spec.path,
    async handle(req, res, params) {
      const source = currentRequest()?.source ?? req.socket.remoteAddress ?? 'unknown';
      let actor: AdminActor;
      try {
        actor = await authenticateAdmin(req, source, deps);
      } catch (err) {
        deps.logger.warn({ event: 'admin.refused', action: spec.name, source, code: (err as HttpError).code }, 'admin API call refused');
        if (err instanceof HttpError && err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer, Basic realm="cohort-admin"');
        throw err;
      }
      if (spec.write) {
        const reason = deps.readOnlyReason();
        if (reason) throw new HttpError(409, 'CLUSTER_READ_ONLY', reason);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      await spec.handle({ req, res, params, actor, url, body: () => readJson(req, deps.maxBodyBytes) });
    },
  }));
}

/** A path segment decoded, or a 400 naming it. */
export function pathParam(raw: string | undefined, what: string): string {
  try {
    const value = decodeURIComponent(raw ?? '');
    if (value === '') throw new Error('empty');
    return value;
  } catch {
    throw new HttpError(400, 'ADMIN_BAD_PARAMETER', `The ${what} in the path is not valid.`);
  }
}

/** The body as an object, or a 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'ADMIN_BAD_REQUEST', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** Store and settings errors as the HTTP answers an API client can act on. */
export function httpErrorOf(err: unknown): unknown {
  const e = err as { name?: string; code?: string; message?: string; status?: number };
  if (e?.name === 'StoreError') {
    if (e.code === 'INVALID') return new HttpError(400, 'ADMIN_INVALID', e.message ?? 'invalid');
    if (e.code === 'NOT_FOUND') return new HttpError(404, 'NOT_FOUND', e.message ?? 'not found');
    if (e.code === 'CONFLICT') return new HttpError(409, 'ADMIN_CONFLICT', e.message ?? 'conflict');
  }
  if (e?.name === 'SettingsError') return new HttpError(400, 'ADMIN_INVALID', e.message ?? 'invalid');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && !(err instanceof HttpError)) {
    return new HttpError(e.status, e.code ?? 'ADMIN_INVALID', e.message ?? 'invalid');
  }
  return err;
}

/** Runs a store call, turning its errors into HTTP answers. */
export async function storeCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw httpErrorOf(err);
  }
}
