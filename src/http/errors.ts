// HTTP-facing errors. `expose` says whether the message may be shown to the client; anything else becomes a generic
// message so internals never leak (the shape oidc-provider's own errors follow).
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly expose = status < 500,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, code = 'BAD_REQUEST') => new HttpError(400, code, message);
export const forbidden = (message: string, code = 'FORBIDDEN') => new HttpError(403, code, message);
export const notFound = (message = 'Not found.') => new HttpError(404, 'NOT_FOUND', message);
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body is larger than the ${limit}-byte limit.`);
export const serviceUnavailable = (message: string, code = 'UNAVAILABLE') => new HttpError(503, code, message, true);
