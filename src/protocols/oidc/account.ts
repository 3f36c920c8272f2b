// Accounts for oidc-provider come from the user store; claims are released by scope.
import { errors, type FindAccount } from 'oidc-provider';
import { StoreError, type User, type UserStore } from '../../store/types.js';
import { DIRECTORY_UNAVAILABLE } from '../../http/respond.js';

/** Which claims each scope releases (OIDC Core 5.4, plus `groups`). */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  profile: ['name', 'preferred_username', 'updated_at'],
  email: ['email', 'email_verified'],
  groups: ['groups'],
};

export function claimsOf(user: User): Record<string, unknown> {
  return {
    sub: user.id,
    name: user.displayName ?? user.username,
    preferred_username: user.username,
    updated_at: Math.floor(user.updatedAt / 1000),
    ...(user.email ? { email: user.email, email_verified: false } : {}),
    groups: user.groups,
  };
}

export function createFindAccount(users: UserStore): FindAccount {
  return async (_ctx, sub) => {
    let user;
    try {
      user = await users.getById(sub);
    } catch (err) {
      // The directory (or database) is out of reach: OAuth's temporarily_unavailable (503), not a server_error.
      if (!(err instanceof StoreError && err.code === 'UNAVAILABLE')) throw err;
      throw Object.assign(new errors.TemporarilyUnavailable(DIRECTORY_UNAVAILABLE), { status: 503, statusCode: 503, expose: true });
    }
    // A disabled or removed user loses SSO and refresh at once: oidc-provider treats a missing account as invalid.
    if (!user || user.disabled) return undefined;
    return { accountId: user.id, claims: async () => ({ ...claimsOf(user), sub: user.id }) as { sub: string } };
  };
}
