// The sign-in, password-change and consent steps oidc-provider hands to us at /interaction/:uid.
// Every POST carries a CSRF token bound to the interaction; every failure answers with a page, never a crash.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { StoreError, type UserStore } from '../store/types.js';
import type { InterRequestStore } from '../state/types.js';
import type { CsrfTokens } from '../http/csrf.js';
import type { Lockout } from './lockout.js';
import type { SessionPolicy } from './session-policy.js';
import { readForm } from '../http/body.js';
import { badRequest, forbidden, serviceUnavailable } from '../http/errors.js';
import { DIRECTORY_UNAVAILABLE, sendHtml } from '../http/respond.js';
import { clientAddress } from '../http/client-address.js';
import { changePasswordPage, consentPage, loginPage } from './views/pages.js';
import type { Branding } from './views/layout.js';
import { PasswordChangeRefused, type ChangePassword } from './password-change.js';

export type SignInOutcome = 'ok' | 'failed' | 'locked' | 'unavailable';

export interface InteractionDeps {
  provider: Provider;
  users: UserStore;
  interRequest: InterRequestStore;
  csrf: CsrfTokens;
  lockout: Lockout;
  sessionPolicy: SessionPolicy;
  maxBodyBytes: number;
  trustProxy: boolean;
  onSignIn(outcome: SignInOutcome, detail: { username: string; source: string }): void;
  /** Why credential changes are refused right now (cluster read-only), or undefined when they are allowed. */
  writesRefused?: () => string | undefined;
  /**
   * Replaces a password (mustChangePassword cleared); default: users.setPassword here. An engine forwards the change
   * to the console, which writes it and replicates it; PasswordChangeRefused when that cannot be done now.
   */
  changePassword?: ChangePassword;
  /** Product name and notice on every page (runtime settings). */
  branding?: Branding;
  now?: () => number;
}

const BAD_CREDENTIALS = 'The username or password is incorrect.';
const LOCKED = 'Too many failed sign-in attempts. Wait a few minutes and try again.';
const MIN_PASSWORD_LENGTH = 12;
const MAX_USERNAME_LENGTH = 256;
const MAX_PASSWORD_BYTES = 1024;
/** A verified user who still has to replace a one-time password: kept only while the interaction lives. */
const PASSWORD_CHANGE_TTL_MS = 10 * 60 * 1000;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export class Interactions {
  private readonly now: () => number;
  constructor(private readonly deps: InteractionDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Loads the interaction bound to this browser; a missing, expired or tampered cookie is a 400, not a crash. */
  private async details(req: IncomingMessage, res: ServerResponse, uid: string): Promise<Details> {
    let details: Details;
    try {
      details = await this.deps.provider.interactionDetails(req, res);
    } catch {
      throw badRequest('Your sign-in request has expired or is not valid. Return to the application and start again.',
        'INTERACTION_INVALID');
    }
    if (details.uid !== uid) {
      throw badRequest('This sign-in page does not belong to your current sign-in request. Start again.',
        'INTERACTION_MISMATCH');
    }
    return details;
  }

  private async clientName(details: Details): Promise<string | undefined> {
    const clientId = details.params.client_id;
    if (typeof clientId !== 'string') return undefined;
    const client = await this.deps.provider.Client.find(clientId);
    return (client?.clientName as string | undefined) ?? clientId;
  }

  private async form(req: IncomingMessage, uid: string, purpose: string): Promise<Map<string, string>> {
    const form = await readForm(req, this.deps.maxBodyBytes);
    if (!this.deps.csrf.verify(purpose, uid, form.get('csrf'))) {
      throw forbidden('The form has expired or did not come from this site. Reload the page and try again.',
        'CSRF_INVALID');
    }
    return form;
  }

  async show(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await this.details(req, res, uid);
    const clientName = await this.clientName(details);
    if (details.prompt.name === 'login') {
      const hint = typeof details.params.login_hint === 'string' ? details.params.login_hint.slice(0, MAX_USERNAME_LENGTH) : undefined;
      sendHtml(res, 200, loginPage({ branding: this.deps.branding,
        action: `/interaction/${uid}/login`, csrf: this.deps.csrf.issue('login', uid), ...(clientName ? { clientName } : {}),
        ...(hint ? { username: hint } : {}),
      }));
      return;
    }
    if (details.prompt.name === 'consent') {
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      sendHtml(res, 200, consentPage({ branding: this.deps.branding,
        action: `/interaction/${uid}/confirm`, abortAction: `/interaction/${uid}/abort`,
        csrf: this.deps.csrf.issue('consent', uid), clientName: clientName ?? 'An application',
        scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [],
      }));
      return;
    }
    throw badRequest(`Unsupported sign-in step '${details.prompt.name}'.`, 'INTERACTION_UNSUPPORTED');
  }

  async login(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await this.details(req, res, uid);
    if (details.prompt.name !== 'login') throw badRequest('This sign-in step is already complete.', 'INTERACTION_STEP');
    const form = await this.form(req, uid, 'login');
    const username = (form.get('username') ?? '').trim().slice(0, MAX_USERNAME_LENGTH);
    const password = form.get('password') ?? '';
    const source = clientAddress(req, this.deps.trustProxy);
    const clientName = await this.clientName(details);
    const again = (status: number, error: string) => sendHtml(res, status, loginPage({ branding: this.deps.branding,
      action: `/interaction/${uid}/login`, csrf: this.deps.csrf.issue('login', uid), username, error,
      ...(clientName ? { clientName } : {}),
    }));

    if (!username || !password) {
      again(400, 'Enter your username and password.');
      return;
    }
    if (await this.deps.lockout.isLocked(username, source)) {
      this.deps.onSignIn('locked', { username, source });
      again(429, LOCKED);
      return;
    }
    // Over-long input is a wrong password, never worth hashing (the limit bounds the cost of each attempt).
    let user: Awaited<ReturnType<UserStore['verifyPassword']>>;
    try {
      user = Buffer.byteLength(password) > MAX_PASSWORD_BYTES
        ? undefined
        : await this.deps.users.verifyPassword(username, password);
    } catch (err) {
      // The directory is down: say so on the sign-in page (no failure is counted: the password was never checked).
      if (!(err instanceof StoreError && err.code === 'UNAVAILABLE')) throw err;
      this.deps.onSignIn('unavailable', { username, source });
      again(503, DIRECTORY_UNAVAILABLE);
      return;
    }
    if (!user) {
      await this.deps.lockout.recordFailure(username, source);
      this.deps.onSignIn('failed', { username, source });
      again(401, BAD_CREDENTIALS);
      return;
    }
    await this.deps.lockout.recordSuccess(username);
    if (user.mustChangePassword) {
      await this.deps.interRequest.put(`password-change:${uid}`, { userId: user.id, username: user.username },
        this.now() + PASSWORD_CHANGE_TTL_MS);
      sendHtml(res, 200, changePasswordPage({ branding: this.deps.branding, action: `/interaction/${uid}/password`, csrf: this.deps.csrf.issue('password', uid) }));
      return;
    }
    if (!(await this.admitted(res, details, user.id))) return;
    this.deps.onSignIn('ok', { username: user.username, source });
    await this.deps.provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  }

  /** The concurrent-session limit, checked cluster-wide before the session exists; renders the refusal itself. */
  private async admitted(res: ServerResponse, details: Details, userId: string): Promise<boolean> {
    const current = details.session?.accountId === userId ? details.session.cookie : undefined;
    const admission = await this.deps.sessionPolicy.admit(userId, current);
    if (admission.admitted) return true;
    sendHtml(res, 403, loginPage({ branding: this.deps.branding,
      action: `/interaction/${details.uid}/login`, csrf: this.deps.csrf.issue('login', details.uid), error: admission.message,
    }));
    return false;
  }

  async changePassword(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await this.details(req, res, uid);
    const form = await this.form(req, uid, 'password');
    const pending = await this.deps.interRequest.get(`password-change:${uid}`);
    if (!pending) throw badRequest('Sign in again before choosing a new password.', 'PASSWORD_CHANGE_EXPIRED');
    const next = form.get('new_password') ?? '';
    const again = (error: string) => sendHtml(res, 400, changePasswordPage({ branding: this.deps.branding,
      action: `/interaction/${uid}/password`, csrf: this.deps.csrf.issue('password', uid), error,
    }));
    if (next.length < MIN_PASSWORD_LENGTH) return again(`Use at least ${MIN_PASSWORD_LENGTH} characters.`);
    if (Buffer.byteLength(next) > MAX_PASSWORD_BYTES) return again(`Use at most ${MAX_PASSWORD_BYTES} bytes.`);
    if (next !== form.get('confirm_password')) return again('The two passwords do not match.');
    const refused = this.deps.writesRefused?.();
    if (refused) throw serviceUnavailable(refused, 'READ_ONLY');
    try {
      if (this.deps.changePassword) await this.deps.changePassword(String(pending.username), next);
      else await this.deps.users.setPassword(String(pending.username), next, { mustChange: false });
    } catch (err) {
      // Nothing was changed: the pending change stays, so the same page can be sent again later.
      if (err instanceof PasswordChangeRefused) throw serviceUnavailable(err.message, err.code === 'READ_ONLY' ? 'READ_ONLY' : 'PASSWORD_CHANGE_UNAVAILABLE');
      throw err;
    }
    await this.deps.interRequest.delete(`password-change:${uid}`);
    if (!(await this.admitted(res, details, String(pending.userId)))) return;
    this.deps.onSignIn('ok', { username: String(pending.username), source: clientAddress(req, this.deps.trustProxy) });
    await this.deps.provider.interactionFinished(req, res, { login: { accountId: String(pending.userId) } },
      { mergeWithLastSubmission: false });
  }

  async confirm(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await this.details(req, res, uid);
    if (details.prompt.name !== 'consent') throw badRequest('There is nothing to allow in this step.', 'INTERACTION_STEP');
    await this.form(req, uid, 'consent');
    const { Grant } = this.deps.provider;
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id as string;
    const grant = details.grantId ? await Grant.find(details.grantId) : new Grant({ accountId, clientId });
    if (!grant) throw badRequest('Your earlier approval has expired. Start again.', 'GRANT_EXPIRED');
    const missing = details.prompt.details as {
      missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await this.deps.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async abort(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    await this.details(req, res, uid);
    await this.form(req, uid, 'consent');
    await this.deps.provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The user denied the request.',
    }, { mergeWithLastSubmission: false });
  }
}
