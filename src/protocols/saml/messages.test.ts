import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS } from './errors.js';
import {
  buildArtifactResolve, buildArtifactResponse, buildAssertion, buildLogoutRequest, buildLogoutResponse, buildResponse,
  checkDestination, checkFreshness, parseAnyRoot, parseArtifactResolve, parseAuthnRequest, parseLogoutRequest,
  parseLogoutResponse,
} from './messages.js';
import { NS, attr, childElements, firstChild, parseXml, textOf } from './xml.js';
import { assertSamlError } from './test-assert.js';

const now = Date.UTC(2030, 0, 1, 12, 0, 0);
const authn = (attrs: string, body = '<saml:Issuer>https://sp.example</saml:Issuer>') =>
  `<samlp:AuthnRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ${attrs}>${body}</samlp:AuthnRequest>`;

describe('parseAuthnRequest', () => {
  it('reads every field', () => {
    const request = parseAuthnRequest(
      authn(
        'ID="_a1" Version="2.0" IssueInstant="2030-01-01T12:00:00.123Z" Destination="https://idp.example/saml/sso" ' +
          'AssertionConsumerServiceURL="https://sp.example/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" ForceAuthn="true" IsPassive="0"',
        `<saml:Issuer> https://sp.example </saml:Issuer><samlp:NameIDPolicy Format="${'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'}" AllowCreate="true"/>`,
      ),
    );
    assert.deepEqual(request, {
      id: '_a1', issuer: 'https://sp.example', issueInstant: new Date('2030-01-01T12:00:00.123Z'),
      destination: 'https://idp.example/saml/sso', acsUrl: 'https://sp.example/acs', protocolBinding: 'HTTP-Artifact',
      forceAuthn: true, isPassive: false, nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', allowCreate: true,
    });
    assert.equal(parseAuthnRequest(authn('ID="_a" Version="2.0" IssueInstant="2030-01-01T12:00:00Z" AssertionConsumerServiceIndex="3"')).acsIndex, 3);
  });

  it('refuses a wrong root, wrong version, missing ID, Issuer or IssueInstant, and bad values', () => {
    const ok = 'Version="2.0" IssueInstant="2030-01-01T12:00:00Z"';
    assertSamlError(() => parseAuthnRequest(`<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" ID="_1" ${ok}/>`), 400, 'WRONG_ROOT');
    assertSamlError(() => parseAuthnRequest(`<AuthnRequest ID="_1" ${ok}/>`), 400, 'WRONG_ROOT');
    const version = assertSamlError(() => parseAuthnRequest(authn('ID="_1" Version="1.1" IssueInstant="2030-01-01T12:00:00Z"')), 400, 'VERSION_MISMATCH');
    assert.equal(version.samlStatus, STATUS.versionMismatch);
    assertSamlError(() => parseAuthnRequest(authn(ok)), 400, 'MISSING_ID');
    assertSamlError(() => parseAuthnRequest(authn(`ID="_1" ${ok}`, '')), 400, 'MISSING_ISSUER');
    assertSamlError(() => parseAuthnRequest(authn('ID="_1" Version="2.0"')), 400, 'MALFORMED_MESSAGE');
    assertSamlError(() => parseAuthnRequest(authn('ID="_1" Version="2.0" IssueInstant="yesterday"')), 400, 'MALFORMED_MESSAGE');
    assertSamlError(() => parseAuthnRequest(authn(`ID="_1" ${ok} ForceAuthn="yes"`)), 400, 'MALFORMED_MESSAGE');
    assertSamlError(() => parseAuthnRequest(authn(`ID="_1" ${ok} AssertionConsumerServiceIndex="-1"`)), 400, 'MALFORMED_MESSAGE');
    const binding = assertSamlError(() => parseAuthnRequest(authn(`ID="_1" ${ok} ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS"`)), 400, 'UNSUPPORTED_BINDING');
    assert.equal(binding.samlStatus, STATUS.unsupportedBinding);
  });
});

describe('logout and artifact messages', () => {
  it('round-trips a LogoutRequest, reading a comment-split NameID in full', () => {
    const xml = buildLogoutRequest({ issuer: 'https://sp.example', destination: 'https://idp.example/saml/slo', nameId: 'admin@evil.example', nameIdFormat: 'urn:f', sessionIndex: 's1', now, lifetimeMs: 60_000 });
    const request = parseLogoutRequest(xml.replace('admin@evil', 'admin<!-- x -->@evil'));
    assert.equal(request.nameId, 'admin@evil.example');
    assert.equal(request.nameIdFormat, 'urn:f');
    assert.deepEqual(request.sessionIndexes, ['s1']);
    assert.equal(request.notOnOrAfter?.getTime(), now + 60_000);
    assert.equal(request.issueInstant.getTime(), now);
    assertSamlError(() => parseLogoutRequest(xml.replace(/<saml:NameID[^]*<\/saml:NameID>/, '')), 400, 'MALFORMED_MESSAGE');
  });

  it('round-trips a LogoutResponse with a second-level status', () => {
    const xml = buildLogoutResponse({ issuer: 'https://idp.example', destination: 'https://sp.example/slo', inResponseTo: '_r1', status: STATUS.partialLogout, now });
    assert.deepEqual(parseLogoutResponse(xml), {
      id: attr(parseXml(xml).documentElement!, 'ID'), inResponseTo: '_r1', issuer: 'https://idp.example',
      status: STATUS.responder, subStatus: STATUS.partialLogout, destination: 'https://sp.example/slo',
    });
    assertSamlError(() => parseLogoutResponse(xml.replace(/ InResponseTo="_r1"/, '')), 400, 'MALFORMED_MESSAGE');
  });

  it('round-trips ArtifactResolve and embeds a message in ArtifactResponse', () => {
    const resolve = buildArtifactResolve({ issuer: 'https://sp.example', artifact: 'AAQAAA==', destination: 'https://idp.example/saml/artifact', now });
    const parsed = parseArtifactResolve(resolve);
    assert.equal(parsed.artifact, 'AAQAAA==');
    assert.equal(parsed.destination, 'https://idp.example/saml/artifact');
    assert.equal(parseAnyRoot(resolve), 'ArtifactResolve');
    const inner = buildResponse({ issuer: 'https://idp.example', destination: 'https://sp.example/acs', status: STATUS.success, now });
    const response = parseXml(buildArtifactResponse({ issuer: 'https://idp.example', inResponseTo: parsed.id, status: STATUS.success, messageXml: `<?xml version="1.0"?>${inner}`, now }));
    assert.equal(firstChild(response.documentElement!, NS.samlp, 'Response')?.localName, 'Response');
    assertSamlError(() => parseAnyRoot('<x/>'), 400, 'WRONG_ROOT');
  });
});

describe('builders', () => {
  it('builds an assertion with bearer confirmation, conditions, statements and escaped values', () => {
    const xml = buildAssertion({
      issuer: 'https://idp.example', nameId: 'a<b>', nameIdFormat: 'urn:f', spEntityId: 'https://sp.example', recipient: 'https://sp.example/acs?x=1&y=2',
      inResponseTo: '_req', sessionIndex: '_s', authnInstant: new Date(now - 5000), now, lifetimeMs: 300_000, skewMs: 60_000,
      attributes: [{ name: 'mail', values: ['a@example.org'] }, { name: 'urn:oid:2.5.4.42', values: ['Ann'] }, { name: 'empty', values: [] }],
      sessionNotOnOrAfter: now + 3_600_000,
    });
    const root = parseXml(xml).documentElement!;
    assert.match(attr(root, 'ID')!, /^_[0-9a-f]{40}$/);
    assert.equal(textOf(firstChild(firstChild(root, NS.saml, 'Subject')!, NS.saml, 'NameID')!), 'a<b>');
    const data = parseXml(xml).getElementsByTagNameNS(NS.saml, 'SubjectConfirmationData')[0]!;
    assert.equal(attr(data, 'Recipient'), 'https://sp.example/acs?x=1&y=2');
    assert.equal(attr(data, 'InResponseTo'), '_req');
    assert.equal(attr(data, 'NotOnOrAfter'), '2030-01-01T12:05:00Z');
    const conditions = firstChild(root, NS.saml, 'Conditions')!;
    assert.equal(attr(conditions, 'NotBefore'), '2030-01-01T11:59:00Z');
    const statement = firstChild(root, NS.saml, 'AuthnStatement')!;
    assert.equal(attr(statement, 'SessionNotOnOrAfter'), '2030-01-01T13:00:00Z');
    const attributes = childElements(firstChild(root, NS.saml, 'AttributeStatement')!);
    assert.deepEqual(attributes.map((a) => [attr(a, 'Name'), attr(a, 'NameFormat')!.split(':').pop()]), [['mail', 'basic'], ['urn:oid:2.5.4.42', 'uri']]);
  });

  it('nests second-level status codes under the right top-level code', () => {
    const status = (s: string) => {
      const doc = parseXml(buildResponse({ issuer: 'i', destination: 'https://d', status: s, statusMessage: 'why', now }));
      return [...doc.getElementsByTagNameNS(NS.samlp, 'StatusCode')].map((el) => attr(el, 'Value'));
    };
    assert.deepEqual(status(STATUS.success), [STATUS.success]);
    assert.deepEqual(status(STATUS.noPassive), [STATUS.responder, STATUS.noPassive]);
    assert.deepEqual(status(STATUS.invalidNameIdPolicy), [STATUS.requester, STATUS.invalidNameIdPolicy]);
  });
});

describe('checks', () => {
  it('checkFreshness refuses future and stale messages within skew', () => {
    checkFreshness(new Date(now), now, 60_000, 300_000);
    checkFreshness(new Date(now + 59_000), now, 60_000, 300_000);
    checkFreshness(new Date(now - 359_000), now, 60_000, 300_000);
    assertSamlError(() => checkFreshness(new Date(now + 61_000), now, 60_000, 300_000), 400, 'FUTURE_MESSAGE');
    assertSamlError(() => checkFreshness(new Date(now - 361_000), now, 60_000, 300_000), 400, 'STALE_MESSAGE');
  });

  it('checkDestination matches exactly and may require one', () => {
    checkDestination('https://idp.example/saml/sso', ['https://idp.example/saml/sso'], true);
    checkDestination(undefined, ['https://idp.example/saml/sso'], false);
    assertSamlError(() => checkDestination(undefined, ['https://idp.example/saml/sso'], true), 400, 'WRONG_DESTINATION');
    assertSamlError(() => checkDestination('https://idp.example/saml/sso/', ['https://idp.example/saml/sso'], false), 400, 'WRONG_DESTINATION');
  });
});
