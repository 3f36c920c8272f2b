// How a password change is carried out when the node does not write users itself (an engine forwards the change
// to the console): the refusal a person sees when it cannot be done now.

/** The change was not made; `message` is written for the person at the page (no internal detail, no secret). */
export class PasswordChangeRefused extends Error {
  constructor(message: string, readonly code: 'READ_ONLY' | 'UNAVAILABLE' | 'REFUSED' = 'UNAVAILABLE') {
    super(message);
    this.name = 'PasswordChangeRefused';
  }
}

/** Replaces the password of a user who just proved who they are; throws PasswordChangeRefused when it cannot. */
export type ChangePassword = (username: string, newPassword: string) => Promise<void>;
