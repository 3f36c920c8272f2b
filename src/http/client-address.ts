import type { IncomingMessage } from 'node:http';

/**
 * The client's address for lockout and audit. X-Forwarded-For is trusted only when http.trustProxy says a proxy
 * we control sets it; then the right-most entry is the one our proxy appended (left ones are client-supplied).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
    const last = value?.split(',').map((s) => s.trim()).filter(Boolean).pop();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
