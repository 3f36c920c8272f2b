// Interoperability with an independent SP implementation: node-saml must accept what the IdP sends, and the IdP must
// read and verify what node-saml sends.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SAML, type SamlConfig } from '@node-saml/node-saml';
import { decodeRedirect, encodeRedirect } from './bindings.js';
import { buildAssertion, buildLogoutRequest, buildResponse } from './builders.js';
import { encryptAssertion, decryptAssertion } from './encryption.js';
import { STATUS } from './errors.js';
import { parseAuthnRequest, parseLogoutRequest } from './messages.js';
import { idpMetadata } from './metadata.js';
import { FORMAT } from './nameid.js';
import { signXml, verifyRedirectSignature, verifyXmlSignature } from './signature.js';
import { parseXml } from './xml.js';
import { testKeys } from './test-keys.js';
import { assertSamlError } from './test-assert.js';

const idp = testKeys('saml-idp');
const sp = testKeys('saml-sp');
const IDP = 'https://idp.example';
const SP = 'https://sp.example/metadata';
const ACS = 'https://sp.example/acs';

function spClient(extra: Partial<SamlConfig> = {}): SAML {
  return new SAML({
    idpCert: idp.cert,
    issuer: SP,
    callbackUrl: ACS,
    audience: SP,
    entryPoint: `${IDP}/saml/sso`,
    logoutUrl: `${IDP}/saml/slo`,
    idpIssuer: IDP,
    validateInResponseTo: 'never',
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    ...extra,
  } as SamlConfig);
}

function assertion(now: number): string {
  return buildAssertion({
    issuer: IDP, nameId: 'pairwise-123', nameIdFormat: FORMAT.persistent, spEntityId: SP, recipient: ACS,
    sessionIndex: '_sess1', authnInstant: new Date(now - 1000), now, lifetimeMs: 300_000, skewMs: 60_000,
    attributes: [{ name: 'email', values: ['alice@example.org'] }, { name: 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1', values: ['staff', 'admins'] }],
  });
}

function response(assertionXml: string, now: number): string {
  return buildResponse({ issuer: IDP, destination: ACS, status: STATUS.success, assertionXml, now });
}

const post = (xml: string) => ({ SAMLResponse: Buffer.from(xml).toString('base64') });
const sign = (xml: string, rootLocalName: string) => signXml(xml, { key: idp.key, cert: idp.cert, rootLocalName });

describe('node-saml accepts IdP responses', () => {
  it('with the assertion signed', async () => {
    const now = Date.now();
    const { profile } = await spClient({ wantAssertionsSigned: true }).validatePostResponseAsync(post(response(sign(assertion(now), 'Assertion'), now)));
    assert.equal(profile?.nameID, 'pairwise-123');
    assert.equal(profile?.nameIDFormat, FORMAT.persistent);
    assert.equal(profile?.sessionIndex, '_sess1');
    assert.equal(profile?.['email'], 'alice@example.org');
    assert.deepEqual(profile?.['urn:oid:1.3.6.1.4.1.5923.1.5.1.1'], ['staff', 'admins']);
  });

  it('with only the response signed', async () => {
    const now = Date.now();
    const signed = sign(response(assertion(now), now), 'Response');
    const { profile } = await spClient({ wantAuthnResponseSigned: true }).validatePostResponseAsync(post(signed));
    assert.equal(profile?.nameID, 'pairwise-123');
  });

  it('with both signed', async () => {
    const now = Date.now();
    const signed = sign(response(sign(assertion(now), 'Assertion'), now), 'Response');
    const client = spClient({ wantAuthnResponseSigned: true, wantAssertionsSigned: true });
    const { profile } = await client.validatePostResponseAsync(post(signed));
    assert.equal(profile?.nameID, 'pairwise-123');
  });

  for (const algorithm of ['aes256-gcm', 'aes256-cbc'] as const) {
    it(`with a signed assertion encrypted with ${algorithm}`, async () => {
      const now = Date.now();
      const encrypted = await encryptAssertion(sign(assertion(now), 'Assertion'), { cert: sp.cert, algorithm });
      assert.ok(!encrypted.includes('pairwise-123'));
      assert.equal(parseXml(encrypted).documentElement!.localName, 'EncryptedAssertion');
      const signed = sign(response(encrypted, now), 'Response');
      const client = spClient({ wantAuthnResponseSigned: true, wantAssertionsSigned: true, decryptionPvk: sp.key });
      const { profile } = await client.validatePostResponseAsync(post(signed));
      assert.equal(profile?.nameID, 'pairwise-123');
      const decrypted = await decryptAssertion(encrypted, sp.key);
      assert.equal(verifyXmlSignature(decrypted, { certs: [idp.cert], allowSha1: false, rootLocalName: 'Assertion' }).signed, true);
    });
  }

  it('and refuses an unsigned one or one signed by another key', async () => {
    const now = Date.now();
    await assert.rejects(spClient({ wantAssertionsSigned: true }).validatePostResponseAsync(post(response(assertion(now), now))));
    const other = signXml(assertion(now), { key: sp.key, cert: sp.cert, rootLocalName: 'Assertion' });
    await assert.rejects(spClient({ wantAssertionsSigned: true }).validatePostResponseAsync(post(response(other, now))));
  });

  it('accepts an IdP LogoutRequest sent with a signed Redirect', async () => {
    const now = Date.now();
    const request = buildLogoutRequest({ issuer: IDP, destination: `${SP}/slo`, nameId: 'pairwise-123', nameIdFormat: FORMAT.persistent, sessionIndex: '_sess1', now, lifetimeMs: 60_000 });
    const url = new URL(encodeRedirect(`${SP}/slo`, 'SAMLRequest', request, 'rs', { key: idp.key }));
    const query = Object.fromEntries(url.searchParams);
    const result = await spClient().validateRedirectAsync(query, url.search.slice(1));
    assert.equal(result.profile?.nameID, 'pairwise-123');
    assert.equal(result.loggedOut, true);
  });
});

describe('node-saml AuthnRequests verify with the Redirect binding', () => {
  const cases: Array<[string, Partial<SamlConfig>, boolean]> = [
    ['unsigned', {}, false],
    ['RSA-SHA256', { privateKey: sp.key, signatureAlgorithm: 'sha256' }, false],
    ['RSA-SHA1', { privateKey: sp.key, signatureAlgorithm: 'sha1' }, true],
  ];
  for (const [name, config, sha1] of cases) {
    it(name, async () => {
      const url = new URL(await spClient(config).getAuthorizeUrlAsync('relay/é', undefined, {}));
      const message = decodeRedirect(url.search.slice(1), 'SAMLRequest', 64 * 1024);
      assert.equal(message.relayState, 'relay/é');
      const request = parseAuthnRequest(message.xml);
      assert.equal(request.issuer, SP);
      assert.equal(request.acsUrl, ACS);
      assert.equal(request.protocolBinding, 'HTTP-POST');
      assert.equal(request.destination, `${IDP}/saml/sso`);
      if (!config.privateKey) {
        assert.equal(message.signature, undefined);
        return;
      }
      verifyRedirectSignature(message.signedOctets!, message.sigAlg!, message.signature!, [sp.cert], sha1);
      if (sha1) assertSamlError(() => verifyRedirectSignature(message.signedOctets!, message.sigAlg!, message.signature!, [sp.cert], false), 403, 'SIGNATURE_ALGORITHM');
      const tampered = url.search.slice(1).replace('RelayState=relay', 'RelayState=relax');
      const bad = decodeRedirect(tampered, 'SAMLRequest', 64 * 1024);
      assertSamlError(() => verifyRedirectSignature(bad.signedOctets!, bad.sigAlg!, bad.signature!, [sp.cert], true), 403, 'SIGNATURE_INVALID');
    });
  }

  it('node-saml LogoutRequests parse', async () => {
    const client = spClient({ privateKey: sp.key, signatureAlgorithm: 'sha256' });
    const url = new URL(await client.getLogoutUrlAsync({ issuer: IDP, nameID: 'pairwise-123', nameIDFormat: FORMAT.persistent, sessionIndex: '_sess1' }, 'r', {}));
    const message = decodeRedirect(url.search.slice(1), 'SAMLRequest', 64 * 1024);
    verifyRedirectSignature(message.signedOctets!, message.sigAlg!, message.signature!, [sp.cert], false);
    const request = parseLogoutRequest(message.xml);
    assert.equal(request.nameId, 'pairwise-123');
    assert.deepEqual(request.sessionIndexes, ['_sess1']);
  });
});

describe('IdP metadata', () => {
  it('is well-formed and its certificate is what node-saml verifies responses with', async () => {
    const xml = idpMetadata({ entityId: IDP, baseUrl: `${IDP}/`, signingCert: idp.cert, artifactEndpoints: [{ index: 0, location: `${IDP}/saml/artifact` }, { index: 1, location: 'https://node1.idp.example/saml/artifact' }] });
    const doc = parseXml(xml);
    assert.equal(doc.documentElement!.getAttribute('entityID'), IDP);
    const certBody = /<ds:X509Certificate>([^<]+)</.exec(xml)![1]!;
    const pem = `-----BEGIN CERTIFICATE-----\n${certBody.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`;
    assert.equal(pem.replace(/\s/g, ''), idp.cert.replace(/\s/g, ''));
    assert.match(xml, /<md:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:SOAP" Location="https:\/\/idp\.example\/saml\/artifact" index="0" isDefault="true"\/>/);
    assert.match(xml, /index="1"\/>/);
    assert.match(xml, /SingleSignOnService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:HTTP-Redirect" Location="https:\/\/idp\.example\/saml\/sso"/);
    assert.match(xml, /SingleLogoutService Binding="urn:oasis:names:tc:SAML:2\.0:bindings:SOAP" Location="https:\/\/idp\.example\/saml\/slo\/soap"/);
    // node-saml is configured from IdP metadata as entryPoint + idpCert: the bare base64 body is accepted as is.
    const now = Date.now();
    const client = spClient({ idpCert: certBody, entryPoint: /SingleSignOnService[^>]+Location="([^"]+)"/.exec(xml)![1]!, wantAssertionsSigned: true });
    const { profile } = await client.validatePostResponseAsync(post(response(sign(assertion(now), 'Assertion'), now)));
    assert.equal(profile?.nameID, 'pairwise-123');
  });
});
