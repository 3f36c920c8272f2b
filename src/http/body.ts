// Bounded request-body readers. Every body is capped (http.maxBodyBytes) before it is parsed; bad input is a 4xx.
import type { IncomingMessage } from 'node:http';
import { badRequest, HttpError, payloadTooLarge } from './errors.js';

export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** application/x-www-form-urlencoded only; each field single-valued and bounded. */
export async function readForm(req: IncomingMessage, limit: number): Promise<Map<string, string>> {
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Expected a form submission (application/x-www-form-urlencoded).');
  }
  const text = (await readBody(req, limit)).toString('utf8');
  if (text.includes('\uFFFD')) throw badRequest('The form is not valid UTF-8.', 'MALFORMED_FORM');
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(text)) {
    if (fields.has(key)) throw badRequest(`The form field '${key}' appears more than once.`, 'MALFORMED_FORM');
    fields.set(key, value);
  }
  return fields;
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (mediaType(req) !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Expected application/json.');
  }
  const text = (await readBody(req, limit)).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.', 'MALFORMED_JSON');
  }
}
