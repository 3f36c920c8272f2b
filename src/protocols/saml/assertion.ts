// The Response an SP receives after sign-in: NameID per the SP's policy, the attributes released to it, signed
// (assertion and/or response) and optionally encrypted, exactly as the SP's registration says.
import type { ServiceProviderRecord, User } from '../../store/types.js';
import { buildAssertion, buildResponse } from './builders.js';
import { encryptAssertion } from './encryption.js';
import { SamlError, STATUS } from './errors.js';
import { FORMAT, formatFromUri, nameIdFor, type NameIdFormat } from './nameid.js';
import { signXml } from './signature.js';
import type { SamlIdp } from './idp.js';

const PASSWORD_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';

/** Attribute names as SPs usually map them (friendly names are the Cohort claim names). */
const ATTRIBUTE_NAMES: Record<string, { name: string; values: (u: User) => string[] }> = {
  username: { name: 'urn:oid:0.9.2342.19200300.100.1.1', values: (u) => [u.username] },
  email: { name: 'urn:oid:0.9.2342.19200300.100.1.3', values: (u) => (u.email ? [u.email] : []) },
  displayName: { name: 'urn:oid:2.16.840.1.113730.3.1.241', values: (u) => (u.displayName ? [u.displayName] : []) },
  groups: { name: 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1', values: (u) => u.groups },
  roles: { name: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.7', values: (u) => u.roles },
};

export interface IssueOptions {
  sp: ServiceProviderRecord;
  user: User;
  acsUrl: string;
  inResponseTo?: string;
  /** NameIDPolicy Format of the request, when it asked for one. */
  requestedFormat?: string;
  sessionIndex: string;
  authnInstant: Date;
  now: number;
}

export function nameIdFormatFor(sp: ServiceProviderRecord, requested: string | undefined): NameIdFormat {
  if (requested === undefined || requested === FORMAT.unspecified) return sp.nameIdFormat;
  const format = formatFromUri(requested);
  if (!format) {
    throw new SamlError(400, 'NAMEID_FORMAT', `NameID format ${requested} is not supported.`, STATUS.invalidNameIdPolicy);
  }
  return format;
}

export async function issueResponse(idp: SamlIdp, o: IssueOptions): Promise<{ xml: string; nameId: string; format: string }> {
  const format = nameIdFormatFor(o.sp, o.requestedFormat);
  const nameId = nameIdFor({ format, user: o.user, spEntityId: o.sp.entityId, secret: idp.deps.secrets.nameId });
  const attributes = o.sp.attributes
    .map((a) => ({ name: ATTRIBUTE_NAMES[a]!.name, friendlyName: a, values: ATTRIBUTE_NAMES[a]!.values(o.user) }))
    .filter((a) => a.values.length > 0);
  let assertion = buildAssertion({
    issuer: idp.entityId, nameId, nameIdFormat: FORMAT[format], spEntityId: o.sp.entityId, recipient: o.acsUrl,
    ...(o.inResponseTo ? { inResponseTo: o.inResponseTo } : {}),
    sessionIndex: o.sessionIndex, authnInstant: o.authnInstant, now: o.now,
    lifetimeMs: idp.deps.config.assertionLifetimeSeconds * 1000, skewMs: idp.skewMs, attributes,
    authnContextClassRef: PASSWORD_CONTEXT, sessionNotOnOrAfter: o.authnInstant.getTime() + idp.deps.sessionTtlMs,
  });
  const { key, cert } = idp.deps.signing;
  if (o.sp.signAssertion) assertion = signXml(assertion, { key, cert, rootLocalName: 'Assertion' });
  if (o.sp.encryptAssertion !== 'none') {
    assertion = await encryptAssertion(assertion, { cert: o.sp.encryptionCertificates[0]!, algorithm: o.sp.encryptAssertion });
  }
  let response = buildResponse({
    issuer: idp.entityId, destination: o.acsUrl, ...(o.inResponseTo ? { inResponseTo: o.inResponseTo } : {}),
    status: STATUS.success, assertionXml: assertion, now: o.now,
  });
  if (o.sp.signResponse) response = signXml(response, { key, cert, rootLocalName: 'Response' });
  return { xml: response, nameId, format: FORMAT[format] };
}

/** An error Response (NoPassive, RequestDenied, ...): signed, so the SP can trust that the IdP said it. */
export function errorResponse(idp: SamlIdp, o: { acsUrl: string; inResponseTo?: string; status: string; message?: string; now: number }): string {
  const xml = buildResponse({
    issuer: idp.entityId, destination: o.acsUrl, ...(o.inResponseTo ? { inResponseTo: o.inResponseTo } : {}),
    status: o.status, ...(o.message ? { statusMessage: o.message } : {}), now: o.now,
  });
  return signXml(xml, { key: idp.deps.signing.key, cert: idp.deps.signing.cert, rootLocalName: 'Response' });
}
