// The web console's routes on the console node: sign-in and sign-out, one server-rendered page per area, and the
// stylesheet. Every page request is authenticated by the console session cookie (re-checked against the user store
// each time); without one it redirects to the sign-in page, and an account without the admin role gets a 403.
// Every form post carries the session's CSRF token; pages read and write only through the admin API (api-call.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Route } from '../../http/router.js';
import type { UserStore } from '../../store/types.js';
import type { Lockout } from '../../auth/lockout.js';
import type { Logger } from '../../ops/logger.js';
import type { StatusRegistry } from '../../ops/status.js';
import { readForm } from '../../http/body.js';
import { HttpError } from '../../http/errors.js';
import { currentRequest } from '../../http/request-context.js';
import { redirect, sendHtml } from '../../http/respond.js';
import { html } from '../../auth/views/html.js';
import { consoleSessionOf, verifyAdminCredentials } from '../auth.js';
import { apiCaller } from './api-call.js';
import type { ConsolePage, PageContext, PostResult } from './context.js';
import { LOGIN_NONCE_COOKIE, setLoginNonceCookie, setSessionCookie, type ConsoleSessions } from './session.js';
import { readCookie } from '../../http/cookies.js';
import { consolePage, STYLES, type PageFrame } from './view.js';
import { loginPage, refusedPage } from './login.js';
import { clusterPage } from './cluster.js';
import { publishPage } from './publish.js';
import { settingsPage } from './settings.js';
import { clientsPage } from './clients.js';
import { serviceProvidersPage } from './service-providers.js';
import { sessionsPage } from './sessions.js';
import { healthPage } from './health.js';
import { statsPage } from './stats.js';
import { auditPage } from './audit.js';

export interface ConsoleDeps {
  /** The admin JSON API routes: every page reads and writes through them. */
  api: Route[];
  users: UserStore;
  lockout: Lockout;
  sessions: ConsoleSessions;
  maxBodyBytes: number;
  logger: Logger;
  status: StatusRegistry;
  readOnlyReason(): string | undefined;
}

export const CONSOLE_PAGES: ConsolePage[] = [
  clusterPage, publishPage, settingsPage, clientsPage, serviceProvidersPage, sessionsPage, healthPage, statsPage, auditPage,
];

const pathRegex = (page: ConsolePage) => (page.path === '/console/' ? /^\/console\/?$/ : new RegExp(`^${page.path}/?$`));

/** Where to go after signing in: a console path only, never another site. */
function safeNext(raw: string | null | undefined): string {
  return raw && /^\/console(\/[A-Za-z0-9_\-/?=&%.]*)?$/.test(raw) && !raw.startsWith('//') ? raw : '/console/';
}

export function consoleRoutes(deps: ConsoleDeps): Route[] {
  const { sessions, logger } = deps;
  const source = (req: IncomingMessage) => currentRequest()?.source ?? req.socket.remoteAddress ?? 'unknown';

  /** The signed-in administrator, or undefined after answering (redirect to sign-in, or 403). */
  async function guard(req: IncomingMessage, res: ServerResponse) {
    const check = await consoleSessionOf(req, { users: deps.users, consoleSessions: sessions });
    if (check.ok) {
      const fresher = sessions.refreshed(check.session);
      const cookie = fresher ?? readCookie(req, 'cohort_console')!;
      if (fresher) setSessionCookie(res, fresher);
      return { ...check, cookie };
    }
    if (check.reason === 'forbidden') {
      logger.warn({ event: 'console.refused', source: source(req), username: check.session.username, reason: 'not an admin' }, 'console access refused');
      setSessionCookie(res, '');
      sendHtml(res, 403, refusedPage('This account does not have the admin role, so it cannot use the console. Sign in with an administrator account.'));
      return undefined;
    }
    if (check.reason === 'invalid') setSessionCookie(res, '');
    const url = new URL(req.url ?? '/', 'http://localhost');
    redirect(res, req.method === 'GET' || req.method === 'HEAD'
      ? `/console/login?next=${encodeURIComponent(url.pathname + url.search)}` : '/console/login');
    return undefined;
  }

  function pageRoute(page: ConsolePage): Route[] {
    const handle = async (req: IncomingMessage, res: ServerResponse, post: boolean) => {
      const who = await guard(req, res);
      if (!who) return;
      const csrf = sessions.csrfToken(who.session);
      const ctx: PageContext = {
        req, res, url: new URL(req.url ?? '/', 'http://localhost'), username: who.user.username, csrf,
        api: apiCaller(deps.api, who.cookie, csrf, req.socket.remoteAddress), readOnly: deps.readOnlyReason(),
        ownStatus: () => deps.status.snapshot(),
      };
      let result: PostResult | undefined;
      if (post) {
        const form = await readForm(req, deps.maxBodyBytes);
        if (!sessions.checkCsrf(who.session, form.get('csrf'))) {
          throw new HttpError(403, 'CSRF_INVALID', 'The form has expired or did not come from this console. Reload the page and try again.');
        }
        if (!page.post) throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'This page takes no form posts.');
        result = await page.post(ctx, form);
        // The write may have changed what is refused (or the cluster may have changed meanwhile).
        ctx.readOnly = deps.readOnlyReason();
      }
      const body = await page.render(ctx);
      const frame: PageFrame = { title: page.title, path: page.path, username: who.user.username, csrf, readOnly: ctx.readOnly, notice: result?.notice };
      sendHtml(res, result?.status ?? 200, consolePage(frame, result?.extra ? html`${result.extra}${body}` : body));
    };
    return [
      { name: `console.${page.title.toLowerCase().replace(/\W+/g, '_')}`, method: 'GET', path: pathRegex(page), handle: (q, s) => handle(q, s, false) },
      { name: `console.${page.title.toLowerCase().replace(/\W+/g, '_')}.post`, method: 'POST', path: pathRegex(page), handle: (q, s) => handle(q, s, true) },
    ];
  }

  const showLogin = (res: ServerResponse, status: number, view: { next: string; username?: string; error?: string; info?: string }) => {
    const nonce = randomBytes(16).toString('base64url');
    setLoginNonceCookie(res, nonce);
    sendHtml(res, status, loginPage({ ...view, csrf: sessions.loginToken(nonce) }));
  };

  return [
    {
      name: 'console.css', method: 'GET', path: /^\/console\/console\.css$/,
      handle: async (_q, res) => {
        res.setHeader('Content-Type', 'text/css; charset=utf-8');
        res.setHeader('Cache-Control', 'public, max-age=3600');
        res.end(STYLES);
      },
    },
    {
      name: 'console.login', method: 'GET', path: /^\/console\/login\/?$/,
      handle: async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const next = safeNext(url.searchParams.get('next'));
        if ((await consoleSessionOf(req, { users: deps.users, consoleSessions: sessions })).ok) return redirect(res, next);
        showLogin(res, 200, { next, ...(url.searchParams.has('signedout') ? { info: 'You have signed out of the console.' } : {}) });
      },
    },
    {
      name: 'console.login.post', method: 'POST', path: /^\/console\/login\/?$/,
      handle: async (req, res) => {
        const form = await readForm(req, deps.maxBodyBytes);
        const next = safeNext(form.get('next'));
        const username = (form.get('username') ?? '').trim();
        if (!sessions.checkLoginToken(readCookie(req, LOGIN_NONCE_COOKIE), form.get('csrf'))) {
          return showLogin(res, 403, { next, username, error: 'The sign-in form has expired. Try again.' });
        }
        if (!username || !form.get('password')) return showLogin(res, 400, { next, username, error: 'Enter your username and password.' });
        let user;
        try {
          user = await verifyAdminCredentials(username, form.get('password')!, source(req), deps);
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          logger.warn({ event: 'console.signin_refused', source: source(req), username, code: err.code }, 'console sign-in refused');
          if (err.status === 403) {
            setLoginNonceCookie(res, '');
            return sendHtml(res, 403, refusedPage('This account does not have the admin role, so it cannot use the console. Sign in with an administrator account.'));
          }
          return showLogin(res, err.status, { next, username, error: err.status === 429 ? err.message : 'The username or password is incorrect.' });
        }
        const { token } = sessions.issue(user);
        setLoginNonceCookie(res, '');
        setSessionCookie(res, token);
        logger.info({ event: 'console.signed_in', username: user.username, source: source(req) }, 'administrator signed in to the console');
        redirect(res, next);
      },
    },
    {
      name: 'console.logout', method: 'POST', path: /^\/console\/logout\/?$/,
      handle: async (req, res) => {
        const check = await consoleSessionOf(req, { users: deps.users, consoleSessions: sessions });
        const form = await readForm(req, deps.maxBodyBytes);
        if (check.ok || check.reason === 'forbidden') {
          if (!sessions.checkCsrf(check.session, form.get('csrf'))) {
            throw new HttpError(403, 'CSRF_INVALID', 'The form has expired or did not come from this console. Reload the page and try again.');
          }
          sessions.signOut(check.session);
          logger.info({ event: 'console.signed_out', username: check.session.username }, 'administrator signed out of the console');
        }
        setSessionCookie(res, '');
        redirect(res, '/console/login?signedout=1');
      },
    },
    ...CONSOLE_PAGES.flatMap(pageRoute),
    {
      // Anything else under /console: sign in first, then a 404 inside the console.
      name: 'console.unknown', method: 'GET', path: /^\/console(\/.*)?$/,
      handle: async (req, res) => {
        const who = await guard(req, res);
        if (!who) return;
        const csrf = sessions.csrfToken(who.session);
        sendHtml(res, 404, consolePage({ title: 'Page not found', path: '', username: who.user.username, csrf, readOnly: deps.readOnlyReason() },
          html`<p>There is no console page at this address. Use the navigation above.</p>`));
      },
    },
  ];
}
