// Reading cookies from a request: the one parser every part of Cohort uses (sign-in state in cookie mode, the SAML
// continuation, the console session). Values come back as sent, without surrounding quotes; no URL decoding.
import type { IncomingMessage } from 'node:http';

/** Every non-empty value the request carries for `name`, in header order (a browser may send two, from two paths). */
export function requestCookies(req: IncomingMessage, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (value) values.push(value);
  }
  return values;
}

/** The first value of `name`, or undefined. */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  return requestCookies(req, name)[0];
}
