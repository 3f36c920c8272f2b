// The messages the IdP sends, as unsigned XML strings. Each message declares the namespaces it uses on its own
// root, so an assertion signed on its own keeps a valid signature once embedded in a Response. No XML declaration
// is emitted: these strings are embedded in other messages.
import { randomBytes } from 'node:crypto';
import { topLevelStatus } from './errors.js';
import { NS, escapeAttr as a, escapeXml as x } from './xml.js';

/** A fresh message ID: `_` + 160 random bits (an xs:ID must not start with a digit). */
export function newId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

/** xs:dateTime in UTC without milliseconds. */
export function instant(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const PASSWORD_PROTECTED = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
const NAME_FORMAT_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
const NAME_FORMAT_BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
const PROTOCOL_NS = `xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"`;

function issuer(value: string): string {
  return `<saml:Issuer>${x(value)}</saml:Issuer>`;
}

function stripDeclaration(xml: string): string {
  return xml.replace(/^\s*<\?xml[^>]*\?>\s*/, '');
}

function statusXml(status: string, message?: string): string {
  const top = topLevelStatus(status);
  const code =
    top === status
      ? `<samlp:StatusCode Value="${a(status)}"/>`
      : `<samlp:StatusCode Value="${a(top)}"><samlp:StatusCode Value="${a(status)}"/></samlp:StatusCode>`;
  const text = message === undefined ? '' : `<samlp:StatusMessage>${x(message)}</samlp:StatusMessage>`;
  return `<samlp:Status>${code}${text}</samlp:Status>`;
}

export interface AssertionOptions {
  issuer: string;
  nameId: string;
  /** Format URI. */
  nameIdFormat: string;
  /** The Audience. */
  spEntityId: string;
  /** The ACS URL the response is posted to. */
  recipient: string;
  inResponseTo?: string;
  sessionIndex: string;
  authnInstant: Date;
  now: number;
  lifetimeMs: number;
  skewMs: number;
  attributes: Array<{ name: string; values: string[]; friendlyName?: string }>;
  authnContextClassRef?: string;
  /** Epoch ms after which the SP should ask again (SessionNotOnOrAfter). */
  sessionNotOnOrAfter?: number;
}

export function buildAssertion(o: AssertionOptions): string {
  const notOnOrAfter = instant(o.now + o.lifetimeMs);
  const inResponseTo = o.inResponseTo === undefined ? '' : ` InResponseTo="${a(o.inResponseTo)}"`;
  const sessionEnd = o.sessionNotOnOrAfter === undefined ? '' : ` SessionNotOnOrAfter="${instant(o.sessionNotOnOrAfter)}"`;
  const attributes = o.attributes.filter((attribute) => attribute.values.length > 0);
  const attributeStatement =
    attributes.length === 0
      ? ''
      : '<saml:AttributeStatement>' +
        attributes
          .map((attribute) => {
            // URIs (urn:oid:…, https://…) are uri-format names; plain words are basic.
            const format = /^[a-z][a-z0-9+.-]*:/i.test(attribute.name) ? NAME_FORMAT_URI : NAME_FORMAT_BASIC;
            const friendly = attribute.friendlyName === undefined ? '' : ` FriendlyName="${a(attribute.friendlyName)}"`;
            const values = attribute.values.map((v) => `<saml:AttributeValue>${x(v)}</saml:AttributeValue>`).join('');
            return `<saml:Attribute Name="${a(attribute.name)}" NameFormat="${format}"${friendly}>${values}</saml:Attribute>`;
          })
          .join('') +
        '</saml:AttributeStatement>';
  return (
    `<saml:Assertion xmlns:saml="${NS.saml}" ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}">` +
    issuer(o.issuer) +
    `<saml:Subject><saml:NameID Format="${a(o.nameIdFormat)}">${x(o.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${BEARER}"><saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" ` +
    `Recipient="${a(o.recipient)}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${instant(o.now - o.skewMs)}" NotOnOrAfter="${notOnOrAfter}">` +
    `<saml:AudienceRestriction><saml:Audience>${x(o.spEntityId)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${instant(o.authnInstant.getTime())}" SessionIndex="${a(o.sessionIndex)}"${sessionEnd}>` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${x(o.authnContextClassRef ?? PASSWORD_PROTECTED)}</saml:AuthnContextClassRef>` +
    '</saml:AuthnContext></saml:AuthnStatement>' +
    attributeStatement +
    '</saml:Assertion>'
  );
}

export function buildResponse(o: {
  issuer: string;
  destination: string;
  inResponseTo?: string;
  status: string;
  statusMessage?: string;
  /** A signed or unsigned saml:Assertion, or a saml:EncryptedAssertion. */
  assertionXml?: string;
  now: number;
}): string {
  const inResponseTo = o.inResponseTo === undefined ? '' : ` InResponseTo="${a(o.inResponseTo)}"`;
  return (
    `<samlp:Response ${PROTOCOL_NS} ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}" ` +
    `Destination="${a(o.destination)}"${inResponseTo}>` +
    issuer(o.issuer) +
    statusXml(o.status, o.statusMessage) +
    (o.assertionXml === undefined ? '' : stripDeclaration(o.assertionXml)) +
    '</samlp:Response>'
  );
}

export function buildLogoutRequest(o: {
  issuer: string;
  destination: string;
  nameId: string;
  nameIdFormat: string;
  sessionIndex?: string;
  now: number;
  lifetimeMs: number;
}): string {
  const sessionIndex = o.sessionIndex === undefined ? '' : `<samlp:SessionIndex>${x(o.sessionIndex)}</samlp:SessionIndex>`;
  return (
    `<samlp:LogoutRequest ${PROTOCOL_NS} ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}" ` +
    `Destination="${a(o.destination)}" NotOnOrAfter="${instant(o.now + o.lifetimeMs)}">` +
    issuer(o.issuer) +
    `<saml:NameID Format="${a(o.nameIdFormat)}">${x(o.nameId)}</saml:NameID>` +
    sessionIndex +
    '</samlp:LogoutRequest>'
  );
}

export function buildLogoutResponse(o: { issuer: string; destination: string; inResponseTo: string; status: string; now: number }): string {
  return (
    `<samlp:LogoutResponse ${PROTOCOL_NS} ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}" ` +
    `Destination="${a(o.destination)}" InResponseTo="${a(o.inResponseTo)}">` +
    issuer(o.issuer) +
    statusXml(o.status) +
    '</samlp:LogoutResponse>'
  );
}

export function buildArtifactResponse(o: { issuer: string; inResponseTo: string; status: string; messageXml?: string; now: number }): string {
  return (
    `<samlp:ArtifactResponse ${PROTOCOL_NS} ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}" ` +
    `InResponseTo="${a(o.inResponseTo)}">` +
    issuer(o.issuer) +
    statusXml(o.status) +
    (o.messageXml === undefined ? '' : stripDeclaration(o.messageXml)) +
    '</samlp:ArtifactResponse>'
  );
}

/** What an SP sends to resolve an artifact; the IdP never sends one, tests and SP-side tooling do. */
export function buildArtifactResolve(o: { issuer: string; artifact: string; destination?: string; now: number }): string {
  const destination = o.destination === undefined ? '' : ` Destination="${a(o.destination)}"`;
  return (
    `<samlp:ArtifactResolve ${PROTOCOL_NS} ID="${newId()}" Version="2.0" IssueInstant="${instant(o.now)}"${destination}>` +
    issuer(o.issuer) +
    `<samlp:Artifact>${x(o.artifact)}</samlp:Artifact>` +
    '</samlp:ArtifactResolve>'
  );
}
