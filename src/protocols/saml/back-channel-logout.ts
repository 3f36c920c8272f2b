// IdP → SP logout over the SOAP back channel (SAML bindings §3.2): used when the session ends without a browser
// (administrator kill, session limit, an SP's own SOAP LogoutRequest) and for every SP that registered a SOAP
// SingleLogoutService. A signed LogoutRequest goes out; the SP's LogoutResponse status says whether it complied.
import type { Participant } from '../../state/types.js';
import type { ServiceProviderRecord } from '../../store/types.js';
import { soapBody, soapEnvelope } from './bindings.js';
import { buildLogoutRequest } from './builders.js';
import { STATUS } from './errors.js';
import { parseLogoutResponse } from './messages.js';
import { assertPublicHost } from './registration.js';
import { signXml } from './signature.js';
import { parseXml, serialize } from './xml.js';
import type { SamlIdp } from './idp.js';

const TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export function soapLogoutEndpoint(sp: ServiceProviderRecord) {
  return sp.singleLogoutServices.find((e) => e.binding === 'SOAP');
}

export function frontChannelLogoutEndpoint(sp: ServiceProviderRecord) {
  return sp.singleLogoutServices.find((e) => e.binding === 'HTTP-Redirect')
    ?? sp.singleLogoutServices.find((e) => e.binding === 'HTTP-POST');
}

/**
 * An unsigned LogoutRequest for one participant, addressed to `destination`. Each binding signs it its own way: an
 * XML signature for SOAP and HTTP-POST, the query signature for HTTP-Redirect (which must not carry an XML one,
 * SAML bindings §3.4.4.1).
 */
export function logoutRequestFor(idp: SamlIdp, participant: Participant, destination: string): { id: string; xml: string } {
  const d = participant.details ?? {};
  const xml = buildLogoutRequest({
    issuer: idp.entityId, destination, nameId: String(d.nameId ?? ''), nameIdFormat: String(d.nameIdFormat ?? ''),
    ...(d.sessionIndex ? { sessionIndex: String(d.sessionIndex) } : {}), now: Date.now(), lifetimeMs: idp.maxAgeMs,
  });
  const id = /\sID="([^"]+)"/.exec(xml)![1]!;
  return { id, xml };
}

/** True when the SP confirmed the logout. Failures are logged, never thrown: logout goes on for everyone else. */
export async function soapLogout(idp: SamlIdp, sp: ServiceProviderRecord, participant: Participant): Promise<boolean> {
  const endpoint = soapLogoutEndpoint(sp);
  if (!endpoint) return false;
  try {
    if (!idp.deps.config.allowPrivateNetworkRequests) await assertPublicHost(endpoint.location);
    const xml = signXml(logoutRequestFor(idp, participant, endpoint.location).xml,
      { key: idp.deps.signing.key, cert: idp.deps.signing.cert, rootLocalName: 'LogoutRequest' });
    const response = await fetch(endpoint.location, {
      method: 'POST', body: soapEnvelope(xml), redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: 'http://www.oasis-open.org/committees/security' },
    });
    const text = await response.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new Error('response too large');
    const logoutResponse = parseLogoutResponse(serialize(soapBody(parseXml(text, { maxBytes: MAX_RESPONSE_BYTES }))));
    const ok = logoutResponse.status === STATUS.success;
    idp.deps.logger.info({ event: ok ? 'saml.logout_sent' : 'saml.logout_refused', sp: sp.entityId, status: logoutResponse.status }, 'SAML back-channel logout');
    return ok;
  } catch (err) {
    idp.deps.logger.warn({ event: 'saml.logout_failed', sp: sp.entityId, reason: (err as Error).message }, 'SAML back-channel logout failed');
    return false;
  }
}
