// Ending a user's session for reasons other than their own RP-initiated logout: an administrator's kill, the
// concurrent-session limit, "sign out of all my sessions". The session is deleted at its owner (so every node stops
// recognising it at once), its id is revoked cluster-wide (a stale copy anywhere can never come back), and every
// client it was issued to gets an OIDC back-channel logout token.
import type Provider from 'oidc-provider';
import type { Participant, SessionRecord, SessionRegistry, StateServices } from '../../state/types.js';
import type { Logger } from '../../ops/logger.js';

export type TerminationReason = 'admin' | 'limit' | 'logout-all' | 'user-disabled';

export interface SessionTerminator {
  terminate(session: SessionRecord, reason: TerminationReason, actor?: string): Promise<{ notified: number }>;
}

interface Authorizations { [clientId: string]: { sid?: string } }

/** Clients the session was issued to: oidc-provider's own record of them, plus the session registry. */
export async function participantsOf(session: SessionRecord, state: StateServices): Promise<Participant[]> {
  const fromSession = Object.entries((session.payload.authorizations ?? {}) as unknown as Authorizations)
    .map(([clientId, a]): Participant => ({ protocol: 'oidc', clientId, details: a.sid ? { sid: a.sid } : {} }));
  const registered = await state.registry.list(session.id);
  const seen = new Set(fromSession.map((p) => `${p.protocol}:${p.clientId}`));
  return [...fromSession, ...registered.filter((p) => !seen.has(`${p.protocol}:${p.clientId}`))];
}

export function createSessionTerminator(provider: Provider, state: StateServices, logger: Logger): SessionTerminator {
  return {
    async terminate(session, reason, actor) {
      const participants = await participantsOf(session, state);
      await state.sessions.delete(session.id);
      await state.revocations.revoke(session.id, session.expiresAt);
      await state.registry.remove(session.id);
      let notified = 0;
      await Promise.all(participants.filter((p) => p.protocol === 'oidc').map(async (p) => {
        // oidc-provider's own logout-token sender (signed with the provider's keys, sid when the client asks for it).
        const client = await provider.Client.find(p.clientId) as unknown as
          { backchannelLogoutUri?: string; backchannelLogout(sub: string, sid: string): Promise<void> } | undefined;
        if (!client?.backchannelLogoutUri || !session.userId) return;
        try {
          await client.backchannelLogout(session.userId, String(p.details?.sid ?? ''));
          notified += 1;
        } catch (err) {
          logger.warn({ event: 'logout.backchannel_failed', clientId: p.clientId, reason: (err as Error).message }, 'back-channel logout failed');
        }
      }));
      logger.info({ event: 'session.terminated', reason, actor, userId: session.userId, owner: session.id.split('.').pop(), notified }, 'session ended');
      return { notified };
    },
  };
}

/** The session registry (IdP role): records each client a session is issued to, from any node. */
export function recordParticipants(provider: Provider, registry: SessionRegistry, sessionTtlMs: number, logger: Logger): void {
  provider.on('authorization.success', (ctx) => {
    const session = ctx.oidc.session as unknown as { id: string; accountId?: string; sidFor(clientId: string): string | undefined } | undefined;
    const clientId = ctx.oidc.client?.clientId;
    if (!session?.accountId || !clientId) return;
    const sid = session.sidFor(clientId);
    registry.add(session.id, { protocol: 'oidc', clientId, details: sid ? { sid } : {} }, Date.now() + sessionTtlMs)
      .catch((err: Error) => logger.warn({ event: 'registry.add_failed', reason: err.message }, 'session registry update failed'));
  });
}
