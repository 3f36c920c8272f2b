// The SAML bindings the IdP speaks: HTTP-Redirect (deflate + base64 in the query, detached signature over the raw
// query octets), HTTP-POST (base64 in an auto-submitting form) and SOAP 1.1 envelopes for the back channel.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Document, Element } from '@xmldom/xmldom';
import { SamlError } from './errors.js';
import { NS, childElements, escapeAttr } from './xml.js';
import { redirectSigAlgUri, signRedirect, type RedirectSigAlg } from './signature.js';

export type MessageParam = 'SAMLRequest' | 'SAMLResponse';

export interface RedirectMessage {
  xml: string;
  relayState?: string;
  sigAlg?: string;
  signature?: Buffer;
  /** What the Signature covers, rebuilt from the query exactly as received (bindings §3.4.4.1). */
  signedOctets?: string;
}

const PROTOCOL_PARAMS = new Set(['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg', 'Signature']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a Redirect-binding message from the raw query string (without the `?`). The raw form matters: the
 * signature covers the parameters as the SP encoded them, and re-encoding decoded values would not reproduce them.
 */
export function decodeRedirect(rawQuery: string, param: MessageParam, maxBytes: number): RedirectMessage {
  const raw = new Map<string, string>();
  for (const pair of rawQuery.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = urlDecode(eq < 0 ? pair : pair.slice(0, eq));
    if (!PROTOCOL_PARAMS.has(name)) continue;
    if (raw.has(name)) throw new SamlError(400, 'DUPLICATE_PARAMETER', `The ${name} parameter appears more than once.`);
    raw.set(name, eq < 0 ? '' : pair.slice(eq + 1));
  }
  const encoded = raw.get(param);
  if (encoded === undefined || encoded === '') throw new SamlError(400, 'MISSING_MESSAGE', `The ${param} parameter is missing.`);
  const compressed = decodeBase64(urlDecode(encoded), maxBytes);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(compressed, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new SamlError(413, 'MESSAGE_TOO_LARGE', `The ${param} inflates to more than ${maxBytes} bytes.`);
    }
    throw new SamlError(400, 'BAD_DEFLATE', `The ${param} is not DEFLATE-compressed.`, undefined, { cause: err });
  }
  const message: RedirectMessage = { xml: decodeUtf8(inflated, param) };
  const relayState = raw.get('RelayState');
  if (relayState !== undefined) message.relayState = urlDecode(relayState);
  const sigAlg = raw.get('SigAlg');
  const signature = raw.get('Signature');
  if (signature !== undefined || sigAlg !== undefined) {
    if (!signature || !sigAlg) throw new SamlError(400, 'INCOMPLETE_SIGNATURE', 'Signature and SigAlg must come together.');
    message.sigAlg = urlDecode(sigAlg);
    message.signature = decodeBase64(urlDecode(signature), 4096);
    message.signedOctets =
      `${param}=${encoded}` + (relayState !== undefined ? `&RelayState=${relayState}` : '') + `&SigAlg=${sigAlg}`;
  }
  return message;
}

/** Decodes an HTTP-POST form value. Line breaks are tolerated (some SPs wrap base64), anything else is not. */
export function decodePost(value: string, maxBytes: number): string {
  if (typeof value !== 'string' || value === '') throw new SamlError(400, 'MISSING_MESSAGE', 'The SAML message is missing.');
  const bytes = decodeBase64(value.replace(/[\r\n\t ]/g, ''), maxBytes);
  // The POST binding carries plain XML, but some SP libraries (node-saml among them) deflate it as for Redirect.
  // XML starts with '<' (after an optional BOM or whitespace); anything else is tried as DEFLATE, bounded as there.
  if (/^(\uFEFF)?\s*</.test(bytes.subarray(0, 8).toString('latin1').replace(/^\xEF\xBB\xBF/, ''))) return decodeUtf8(bytes, 'SAML message');
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new SamlError(413, 'MESSAGE_TOO_LARGE', `The SAML message inflates to more than ${maxBytes} bytes.`);
    }
    throw new SamlError(400, 'BAD_ENCODING', 'The SAML message is neither XML nor DEFLATE-compressed XML.');
  }
  return decodeUtf8(inflated, 'SAML message');
}

/** Builds the full Redirect-binding URL; with a signer, adds SigAlg and Signature over the query octets. */
export function encodeRedirect(
  location: string,
  param: MessageParam,
  xml: string,
  relayState: string | undefined,
  signer?: { key: string; alg?: RedirectSigAlg },
): string {
  let query = `${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (relayState !== undefined) query += `&RelayState=${encodeURIComponent(relayState)}`;
  if (signer) {
    const signed = signRedirect(`${query}&SigAlg=${encodeURIComponent(redirectSigAlgUri(signer.alg))}`, signer.key, signer.alg);
    query += `&SigAlg=${encodeURIComponent(signed.sigAlg)}&Signature=${encodeURIComponent(signed.signature)}`;
  }
  const separator = !location.includes('?') ? '?' : /[?&]$/.test(location) ? '' : '&';
  return `${location}${separator}${query}`;
}

/**
 * An HTML page that posts `fields` to `action`: a nonce'd inline script submits it at once, and without
 * JavaScript the user sees a Continue button.
 */
export function postFormHtml(action: string, fields: Record<string, string>, nonce?: string): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeAttr(name)}" value="${escapeAttr(value)}">`)
    .join('\n');
  const nonceAttr = nonce === undefined ? '' : ` nonce="${escapeAttr(nonce)}"`;
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Continue</title></head>
<body>
<form method="post" action="${escapeAttr(action)}">
${inputs}
<noscript><p>JavaScript is off. Press Continue to go on.</p><button type="submit">Continue</button></noscript>
</form>
<script${nonceAttr}>document.forms[0].submit();</script>
</body>
</html>
`;
}

export function soapEnvelope(innerXml: string): string {
  return (
    `<soap11:Envelope xmlns:soap11="${NS.soap11}"><soap11:Body>` +
    innerXml.replace(/^<\?xml[^>]*\?>\s*/, '') +
    '</soap11:Body></soap11:Envelope>'
  );
}

/** The single element inside a SOAP 1.1 Body. */
export function soapBody(doc: Document): Element {
  const envelope = doc.documentElement;
  if (!envelope || envelope.namespaceURI !== NS.soap11 || envelope.localName !== 'Envelope') {
    throw new SamlError(400, 'SOAP_MALFORMED', 'The message is not a SOAP 1.1 envelope.');
  }
  const bodies = childElements(envelope, NS.soap11, 'Body');
  if (bodies.length !== 1) throw new SamlError(400, 'SOAP_MALFORMED', 'The SOAP envelope must have one Body.');
  const content = childElements(bodies[0]!);
  if (content.length !== 1) throw new SamlError(400, 'SOAP_MALFORMED', 'The SOAP Body must hold exactly one element.');
  return content[0]!;
}

function urlDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new SamlError(400, 'BAD_ENCODING', 'The query string is not validly URL-encoded.');
  }
}

function decodeBase64(value: string, maxBytes: number): Buffer {
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new SamlError(400, 'BAD_BASE64', 'The value is not valid base64.');
  if ((value.length / 4) * 3 > maxBytes + 2) throw new SamlError(413, 'MESSAGE_TOO_LARGE', `The message is larger than ${maxBytes} bytes.`);
  return Buffer.from(value, 'base64');
}

function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SamlError(400, 'BAD_ENCODING', `The ${what} is not valid UTF-8.`);
  }
}
