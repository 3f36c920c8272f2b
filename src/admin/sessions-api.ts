// Admin API for live sessions, served by every node: the logged-on list (cluster-wide, paged, filter by user) and
// remote kill of one session or of all of a user's sessions. Every call is audit-logged with who did what.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../http/router.js';
import type { SessionRecord, StateServices } from '../state/types.js';
import type { UserStore } from '../store/types.js';
import type { Logger } from '../ops/logger.js';
import type { SessionTerminator } from '../protocols/oidc/session-termination.js';
import { participantsOf } from '../protocols/oidc/session-termination.js';
import { ownerIndexOf } from '../state/routed-id.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import { currentRequest } from '../http/request-context.js';
import { authenticateAdmin, type AdminActor, type AdminAuthDeps } from './auth.js';

export interface SessionsApiDeps extends AdminAuthDeps {
  state: StateServices;
  users: UserStore;
  terminator: SessionTerminator;
  logger: Logger;
}

const MAX_PAGE = 500;
const SESSION_ID = '([A-Za-z0-9_-]{10,64}(?:\\.[0-9a-z]{1,4})?)';

function integerParam(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > max) throw badRequest(`'${name}' must be an integer from 0 to ${max}.`, 'ADMIN_BAD_PARAMETER');
  return Number(raw);
}

async function describe(s: SessionRecord, state: StateServices, usernames: Map<string, string | undefined>, users: UserStore) {
  if (s.userId && !usernames.has(s.userId)) usernames.set(s.userId, (await users.getById(s.userId))?.username);
  const seen = (s.payload.cohort ?? {}) as { source?: string; lastSeen?: number };
  const loginTs = typeof s.payload.loginTs === 'number' ? s.payload.loginTs * 1000 : undefined;
  return {
    id: s.id,
    user: s.userId ? usernames.get(s.userId) ?? null : null,
    userId: s.userId ?? null,
    node: ownerIndexOf(s.id) ?? null,
    source: seen.source ?? null,
    started: loginTs ? new Date(loginTs).toISOString() : null,
    lastSeen: seen.lastSeen ? new Date(seen.lastSeen).toISOString() : null,
    expires: new Date(s.expiresAt).toISOString(),
    clients: (await participantsOf(s, state)).map((p) => ({ protocol: p.protocol, clientId: p.clientId })),
  };
}

export function sessionsApiRoutes(deps: SessionsApiDeps): Route[] {
  const authed = (name: string, handler: (req: IncomingMessage, res: ServerResponse, params: string[], actor: AdminActor) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, params: string[]) => {
      const source = currentRequest()?.source ?? req.socket.remoteAddress ?? 'unknown';
      let actor: AdminActor;
      try {
        actor = await authenticateAdmin(req, source, deps);
      } catch (err) {
        deps.logger.warn({ event: 'admin.refused', action: name, source, code: (err as HttpError).code }, 'admin API call refused');
        if (err instanceof HttpError && err.status === 401) res.setHeader('WWW-Authenticate', 'Bearer, Basic realm="cohort-admin"');
        throw err;
      }
      await handler(req, res, params, actor);
    };

  const userIdOf = async (username: string): Promise<string> => {
    const user = await deps.users.getByUsername(username);
    if (!user) throw notFound(`No user named '${username}'.`);
    return user.id;
  };

  return [
    {
      name: 'admin.sessions.list', method: 'GET', path: /^\/admin\/api\/sessions\/?$/,
      handle: authed('sessions.list', async (req, res, _p, actor) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const offset = integerParam(url, 'offset', 0, 1_000_000_000);
        const limit = integerParam(url, 'limit', 50, MAX_PAGE);
        const username = url.searchParams.get('user');
        const userId = username ? await userIdOf(username) : undefined;
        const page = await deps.state.sessions.list({ offset, limit, ...(userId ? { userId } : {}) });
        const usernames = new Map<string, string | undefined>();
        const live = [];
        for (const s of page.items) {
          if (!s.userId || await deps.state.revocations.isRevoked(s.id)) continue;
          live.push(await describe(s, deps.state, usernames, deps.users));
        }
        deps.logger.info({ event: 'admin.sessions_listed', actor: actor.name, user: username ?? undefined, offset, limit }, 'admin listed sessions');
        sendJson(res, 200, { total: page.total, offset, limit, items: live });
      }),
    },
    {
      name: 'admin.sessions.kill', method: 'DELETE', path: new RegExp(`^/admin/api/sessions/${SESSION_ID}$`),
      handle: authed('sessions.kill', async (_req, res, [id], actor) => {
        const session = await deps.state.sessions.get(id!);
        if (!session || await deps.state.revocations.isRevoked(session.id)) throw notFound('No such live session.');
        const { notified } = await deps.terminator.terminate(session, 'admin', actor.name);
        deps.logger.info({ event: 'admin.session_killed', actor: actor.name, session: session.id.slice(0, 8), userId: session.userId }, 'admin ended a session');
        sendJson(res, 200, { killed: 1, clientsNotified: notified });
      }),
    },
    {
      name: 'admin.user.sessions.kill', method: 'DELETE', path: /^\/admin\/api\/users\/([^/]{1,256})\/sessions\/?$/,
      handle: authed('user.sessions.kill', async (_req, res, [rawName], actor) => {
        let username: string;
        try {
          username = decodeURIComponent(rawName!);
        } catch {
          throw badRequest('The user name in the path is not valid.', 'ADMIN_BAD_PARAMETER');
        }
        const userId = await userIdOf(username);
        const sessions = await deps.state.sessions.listByUser(userId);
        let notified = 0;
        for (const s of sessions) notified += (await deps.terminator.terminate(s, 'admin', actor.name)).notified;
        deps.logger.info({ event: 'admin.user_sessions_killed', actor: actor.name, user: username, count: sessions.length }, 'admin ended all sessions of a user');
        sendJson(res, 200, { killed: sessions.length, clientsNotified: notified });
      }),
    },
  ];
}
