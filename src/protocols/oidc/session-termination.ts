// Ending a user's session for reasons other than their own RP-initiated logout: an administrator's kill, the
// concurrent-session limit, "sign out of all my sessions". The session is deleted at its owner (so every node stops
// recognising it at once), its id is revoked cluster-wide (a stale copy anywhere can never come back), and every
// client it was issued to gets an OIDC back-channel logout token.
import type Provider from 'oidc-provider';
import type { Participant, SessionRecord, SessionRegistry, StateServices } from '../../state/types.js';
import type { Logger } from '../../ops/logger.js';

export type TerminationReason = 'admin' | 'limit' | 'logout-all' | 'user-disabled' | 'saml-logout';

export interface TerminationResult {
  /** Clients and SPs told over a back channel. */
  notified: number;
  /** Back-channel notifications that failed. */
  failed: number;
  /** SAML SPs that can only be reached through the user's browser (front channel); the caller decides. */
  frontChannel: Participant[];
}

export interface SessionTerminator {
  terminate(session: SessionRecord, reason: TerminationReason, actor?: string, options?: { except?: string }): Promise<TerminationResult>;
}

/**
 * Logs SAML participants out over the back channel (the SAML layer provides it once built): true when the SP
 * confirmed, false when it failed, 'front-channel' when the SP has only browser-bound logout endpoints.
 */
export type SamlLogoutHook = (participant: Participant) => Promise<boolean | 'front-channel' | 'none'>;

interface Authorizations { [clientId: string]: { sid?: string } }

/** Clients the session was issued to: oidc-provider's own record of them, plus the session registry. */
export async function participantsOf(session: SessionRecord, state: StateServices): Promise<Participant[]> {
  const fromSession = Object.entries((session.payload.authorizations ?? {}) as unknown as Authorizations)
    .map(([clientId, a]): Participant => ({ protocol: 'oidc', clientId, details: a.sid ? { sid: a.sid } : {} }));
  const registered = await state.registry.list(session.uid);
  const seen = new Set(fromSession.map((p) => `${p.protocol}:${p.clientId}`));
  return [...fromSession, ...registered.filter((p) => !seen.has(`${p.protocol}:${p.clientId}`))];
}

export function createSessionTerminator(
  provider: Provider, state: StateServices, logger: Logger, saml: { logout?: SamlLogoutHook } = {},
): SessionTerminator {
  return {
    async terminate(session, reason, actor, options = {}) {
      const participants = (await participantsOf(session, state)).filter((p) => p.clientId !== options.except);
      await state.sessions.delete(session.id);
      await state.revocations.revoke(session.id, session.expiresAt);
      await state.registry.remove(session.uid);
      let notified = 0;
      let failed = 0;
      const frontChannel: Participant[] = [];
      await Promise.all(participants.map(async (p) => {
        if (p.protocol === 'saml') {
          const outcome = saml.logout ? await saml.logout(p) : 'none';
          if (outcome === 'front-channel') frontChannel.push(p);
          else if (outcome === true) notified += 1;
          else if (outcome === false) failed += 1;
          return;
        }
        // oidc-provider's own logout-token sender (signed with the provider's keys, sid when the client asks for it).
        const client = await provider.Client.find(p.clientId) as unknown as
          { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> } | undefined;
        if (!client?.backchannelLogoutUri || !session.userId) return;
        try {
          await client.backchannelLogout(session.userId, String(p.details?.sid ?? ''));
          notified += 1;
        } catch (err) {
          failed += 1;
          logger.warn({ event: 'logout.backchannel_failed', clientId: p.clientId, reason: (err as Error).message }, 'back-channel logout failed');
        }
      }));
      logger.info({ event: 'session.terminated', reason, actor, userId: session.userId, owner: session.id.split('.').pop(), notified, failed, frontChannel: frontChannel.length }, 'session ended');
      return { notified, failed, frontChannel };
    },
  };
}

/** The session registry (IdP role): records each client a session is issued to, from any node. */
export function recordParticipants(provider: Provider, registry: SessionRegistry, sessionTtlMs: number, logger: Logger): void {
  provider.on('authorization.success', (ctx) => {
    const session = ctx.oidc.session as unknown as { uid: string; accountId?: string; sidFor(clientId: string): string | undefined } | undefined;
    const clientId = ctx.oidc.client?.clientId;
    if (!session?.accountId || !clientId) return;
    const sid = session.sidFor(clientId);
    registry.add(session.uid, { protocol: 'oidc', clientId, details: sid ? { sid } : {} }, Date.now() + sessionTtlMs)
      .catch((err: Error) => logger.warn({ event: 'registry.add_failed', reason: err.message }, 'session registry update failed'));
  });
}

/**
 * A user who signs out at an OIDC relying party (end_session, "sign out of everything") ends the SSO session, so the
 * SAML SPs of that session are told too, over their SOAP back channel: oidc-provider itself only knows OIDC clients.
 */
export function logoutSamlOnEndSession(provider: Provider, registry: SessionRegistry, saml: { logout?: SamlLogoutHook }, logger: Logger): void {
  provider.on('end_session.success', (ctx) => {
    const session = ctx.oidc.session as unknown as { uid?: string } | undefined;
    if (!session?.uid || !ctx.oidc.params?.logout || !saml.logout) return;
    const sessionUid = session.uid;
    void (async () => {
      const participants = (await registry.list(sessionUid)).filter((p) => p.protocol === 'saml');
      await Promise.all(participants.map((p) => saml.logout!(p)));
      await registry.remove(sessionUid);
    })().catch((err: Error) => logger.warn({ event: 'logout.saml_failed', reason: err.message }, 'SAML logout after end_session failed'));
  });
}
