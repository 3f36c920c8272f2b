// The one error class of the operations layer (status, metrics, logging helpers). These are programming errors in
// wiring, never shown to HTTP clients.

export type OpsErrorCode = 'OPS_DUPLICATE_CHECK' | 'OPS_INVALID_CHECK';

export class OpsError extends Error {
  constructor(readonly code: OpsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsError';
  }
}
