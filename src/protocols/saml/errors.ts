// One error class for the SAML protocol layer. Every refusal of outside input is a SamlError, so the HTTP layer can
// map it without guessing: `status` is the HTTP status, `code` a stable machine-readable reason (branch on it, never
// on the message), and `samlStatus`, when set, the status code to put in a SAML error response to the SP instead of
// showing an error page.

export const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  versionMismatch: 'urn:oasis:names:tc:SAML:2.0:status:VersionMismatch',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
  unsupportedBinding: 'urn:oasis:names:tc:SAML:2.0:status:UnsupportedBinding',
  partialLogout: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
} as const;

/** Second-level codes caused by the request itself; the others are the responder's (SAML core §3.2.2.2). */
const REQUESTER_FAULTS: ReadonlySet<string> = new Set([
  STATUS.requestDenied,
  STATUS.invalidNameIdPolicy,
  STATUS.unsupportedBinding,
]);

/** The top-level StatusCode to send with `status`: the only values SAML allows at the top are these four. */
export function topLevelStatus(status: string): string {
  if (status === STATUS.success || status === STATUS.requester || status === STATUS.responder) return status;
  if (status === STATUS.versionMismatch) return status;
  return REQUESTER_FAULTS.has(status) ? STATUS.requester : STATUS.responder;
}

export class SamlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly samlStatus?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SamlError';
  }
}

export function isSamlError(value: unknown, code?: string): value is SamlError {
  return value instanceof SamlError && (code === undefined || value.code === code);
}
