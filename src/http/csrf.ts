// CSRF tokens for our forms: HMAC(key, purpose + interaction uid). The interaction uid is bound to the browser by
// oidc-provider's signed interaction cookie, so a token is valid only for that browser's transaction, and any node
// holding the same cookie keys can verify it (no server-side state to share).
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export class CsrfTokens {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cohort csrf v1', 32));
  }

  issue(purpose: string, binding: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${binding}`).digest('base64url');
  }

  verify(purpose: string, binding: string, token: string | undefined): boolean {
    if (!token) return false;
    const expected = Buffer.from(this.issue(purpose, binding));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
