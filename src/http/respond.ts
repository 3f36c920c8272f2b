// Writing responses: HTML pages, JSON, plain text, redirects. Errors are answered in the form the client asked for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setPageHeaders } from './headers.js';
import { HttpError } from './errors.js';
import { StateUnavailableError } from '../state/types.js';
import { StoreError } from '../store/types.js';
import { errorPage } from '../auth/views/pages.js';

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  setPageHeaders(res);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(html);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}

export function redirect(res: ServerResponse, location: string, status = 303): void {
  res.statusCode = status;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return (accept.includes('application/json') && !accept.includes('text/html'))
    || (req.headers['content-type'] ?? '').startsWith('application/json');
}

export const DIRECTORY_UNAVAILABLE = 'The user directory is unavailable. Try again in a few minutes.';

/** Public message and status for any thrown value; internals are never exposed. */
export function describeError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof StateUnavailableError) {
    // Cluster state is out of reach (owner down, read-only): temporary, and the message says what to do.
    return { status: 503, code: err.code, message: `${err.message} Try again in a moment.` };
  }
  if (err instanceof StoreError && err.code === 'UNAVAILABLE') {
    // The user directory (LDAP) or database is out of reach: temporary, and never the user's fault.
    return { status: 503, code: 'DIRECTORY_UNAVAILABLE', message: DIRECTORY_UNAVAILABLE };
  }
  if (err instanceof HttpError) {
    return { status: err.status, code: err.code, message: err.expose ? err.message : 'Something went wrong on our side.' };
  }
  return { status: 500, code: 'INTERNAL', message: 'Something went wrong on our side.' };
}

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const { status, code, message } = describeError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 413 || status === 400) res.setHeader('Connection', 'close');
  if (wantsJson(req)) sendJson(res, status, { error: code, message });
  else sendHtml(res, status, errorPage({ status, message }));
}
