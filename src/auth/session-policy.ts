// The concurrent-session limit, enforced cluster-wide: before a sign-in creates a session, count the user's live
// sessions on every node (the sessions service lists them cluster-wide). At the limit, either refuse the sign-in
// or end the oldest sessions, which notifies their clients through back-channel logout.
import type { SessionRecord, SessionStore, RevocationList } from '../state/types.js';

export interface SessionLimit {
  /** 0 = unlimited. */
  maxPerUser: number;
  limitAction: 'refuse' | 'delete-oldest';
}

export interface Terminator {
  terminate(session: SessionRecord, reason: 'limit' | 'logout-all', actor?: string): Promise<unknown>;
}

export type Admission = { admitted: true; ended: number } | { admitted: false; message: string };

/** When a session started: oidc-provider's loginTs (seconds), else its creation order. */
function startedAt(s: SessionRecord): number {
  const loginTs = s.payload.loginTs;
  return typeof loginTs === 'number' ? loginTs * 1000 : 0;
}

export class SessionPolicy {
  constructor(
    private readonly sessions: SessionStore,
    private readonly revocations: RevocationList,
    private readonly terminator: Terminator,
    private readonly limit: SessionLimit,
  ) {}

  /** The user's signed-in sessions across the cluster, oldest first. */
  async liveSessions(userId: string): Promise<SessionRecord[]> {
    const all = await this.sessions.listByUser(userId);
    const live: SessionRecord[] = [];
    for (const s of all) {
      if (s.payload.accountId === userId && !(await this.revocations.isRevoked(s.id))) live.push(s);
    }
    return live.sort((a, b) => startedAt(a) - startedAt(b));
  }

  /** Decides whether `userId` may start one more session; `keep` is the browser's current session, if any. */
  async admit(userId: string, keep?: string): Promise<Admission> {
    const max = this.limit.maxPerUser;
    if (max === 0) return { admitted: true, ended: 0 };
    const others = (await this.liveSessions(userId)).filter((s) => s.id !== keep);
    const excess = others.length - max + 1;
    if (excess <= 0) return { admitted: true, ended: 0 };
    if (this.limit.limitAction === 'refuse') {
      return {
        admitted: false,
        message: `You are already signed in on ${others.length} ${others.length === 1 ? 'device' : 'devices'}, the most allowed`
          + ' at once. Sign out there first, then try again.',
      };
    }
    for (const oldest of others.slice(0, excess)) await this.terminator.terminate(oldest, 'limit');
    return { admitted: true, ended: excess };
  }
}
