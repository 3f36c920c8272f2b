// "Sign out of all my sessions": offered on the logout page to a user signed in in more than one browser (when
// session.allowLogoutAll is on). The offer is a single-use random token kept in the inter-request state, so the
// form works through any node and cannot be forged from another site (the token is only on the user's own page).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InterRequestStore } from '../state/types.js';
import type { Route } from '../http/router.js';
import type { Logger } from '../ops/logger.js';
import type { SessionPolicy, Terminator } from './session-policy.js';
import { readForm } from '../http/body.js';
import { badRequest } from '../http/errors.js';
import { sendHtml } from '../http/respond.js';
import { loggedOutEverywherePage } from './views/pages.js';
import type { Branding } from './views/layout.js';

const OFFER_TTL_MS = 10 * 60 * 1000;

export interface LogoutAllDeps {
  enabled: boolean;
  policy: SessionPolicy;
  interRequest: InterRequestStore;
  terminator: Terminator;
  maxBodyBytes: number;
  logger: Logger;
  branding?: Branding;
  now?: () => number;
}

export class LogoutAll {
  private readonly now: () => number;
  constructor(private readonly deps: LogoutAllDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** A token for the logout page, or undefined when the option is off or the user has one session. */
  async offer(accountId: string | undefined): Promise<{ token: string; sessions: number } | undefined> {
    if (!this.deps.enabled || !accountId) return undefined;
    const sessions = (await this.deps.policy.liveSessions(accountId)).length;
    if (sessions < 2) return undefined;
    const token = randomBytes(32).toString('base64url');
    await this.deps.interRequest.put(`logout-all:${token}`, { accountId }, this.now() + OFFER_TTL_MS);
    return { token, sessions };
  }

  async confirm(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = (await readForm(req, this.deps.maxBodyBytes)).get('token') ?? '';
    const key = `logout-all:${token.slice(0, 64)}`;
    const offer = token ? await this.deps.interRequest.get(key) : undefined;
    if (!offer) throw badRequest('This sign-out page has expired. Open the sign-out page of your application again.', 'LOGOUT_ALL_EXPIRED');
    await this.deps.interRequest.delete(key);
    const sessions = await this.deps.policy.liveSessions(String(offer.accountId));
    for (const s of sessions) await this.deps.terminator.terminate(s, 'logout-all');
    this.deps.logger.info({ event: 'session.logged_out_everywhere', userId: offer.accountId, count: sessions.length }, 'user signed out of all sessions');
    sendHtml(res, 200, loggedOutEverywherePage(sessions.length, this.deps.branding));
  }

  routes(): Route[] {
    return [{ name: 'logout.all', method: 'POST', path: /^\/logout\/all$/, handle: (q, s) => this.confirm(q, s) }];
  }
}
