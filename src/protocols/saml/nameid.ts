// NameID values. Persistent identifiers are pairwise pseudonyms computed from a secret, so they are stable across
// nodes and restarts without storing anything, and two SPs cannot correlate a user by comparing them.
import { createHmac, randomBytes } from 'node:crypto';
import { SamlError, STATUS } from './errors.js';

export const FORMAT = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  emailAddress: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;

export type NameIdFormat = keyof typeof FORMAT;

export function nameIdFor(opts: {
  format: NameIdFormat;
  user: { id: string; username: string; email?: string };
  spEntityId: string;
  secret: Buffer;
}): string {
  switch (opts.format) {
    case 'persistent':
      return createHmac('sha256', opts.secret).update(`${opts.spEntityId}\0${opts.user.id}`).digest('base64');
    case 'transient':
      return randomBytes(32).toString('base64url');
    case 'emailAddress':
      if (!opts.user.email) {
        throw new SamlError(400, 'NO_EMAIL', 'The user has no email address to use as NameID.', STATUS.invalidNameIdPolicy);
      }
      return opts.user.email;
    case 'unspecified':
      return opts.user.username;
  }
}

export function formatFromUri(uri: string): NameIdFormat | undefined {
  for (const [key, value] of Object.entries(FORMAT) as Array<[NameIdFormat, string]>) if (value === uri) return key;
  // SAML 2.0 SPs sometimes send the 2.0 spelling of the 1.1 formats.
  if (uri === 'urn:oasis:names:tc:SAML:2.0:nameid-format:emailAddress') return 'emailAddress';
  if (uri === 'urn:oasis:names:tc:SAML:2.0:nameid-format:unspecified') return 'unspecified';
  return undefined;
}
