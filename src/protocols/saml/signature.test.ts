import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignedXml } from 'xml-crypto';
import { buildArtifactResolve, buildAssertion, buildLogoutRequest, buildResponse } from './builders.js';
import { soapBody } from './bindings.js';
import { STATUS } from './errors.js';
import { parseArtifactResolve, parseLogoutRequest } from './messages.js';
import { signXml, verifyRedirectSignature, verifyXmlSignature, signRedirect } from './signature.js';
import { NS, childElements, firstChild, parseXml, serialize, textOf } from './xml.js';
import { testKeys } from './test-keys.js';
import { assertSamlError } from './test-assert.js';

const idp = testKeys('saml-idp');
const sp = testKeys('saml-sp');
const evil = testKeys('saml-evil');
const now = Date.UTC(2030, 0, 1, 12, 0, 0);

function logoutRequest(nameId = 'alice'): string {
  return buildLogoutRequest({ issuer: 'https://sp.example', destination: 'https://idp.example/saml/slo', nameId, nameIdFormat: 'urn:x', sessionIndex: 's1', now, lifetimeMs: 60_000 });
}

function assertion(): string {
  return buildAssertion({
    issuer: 'https://idp.example', nameId: 'alice', nameIdFormat: 'urn:x', spEntityId: 'https://sp.example',
    recipient: 'https://sp.example/acs', sessionIndex: 's1', authnInstant: new Date(now), now, lifetimeMs: 300_000,
    skewMs: 60_000, attributes: [{ name: 'mail', values: ['a@example.org'] }],
  });
}

describe('signXml / verifyXmlSignature', () => {
  it('round-trips, with the signature right after the Issuer and only signed bytes returned', () => {
    const signed = signXml(logoutRequest(), { key: sp.key, cert: sp.cert, rootLocalName: 'LogoutRequest' });
    const root = parseXml(signed).documentElement!;
    const names = childElements(root).map((el) => el.localName);
    assert.deepEqual(names.slice(0, 2), ['Issuer', 'Signature']);
    const result = verifyXmlSignature(signed, { certs: [evil.cert, sp.cert], allowSha1: false, rootLocalName: 'LogoutRequest' });
    assert.equal(result.signed, true);
    assert.equal(parseLogoutRequest(result.verifiedXml!).nameId, 'alice');
    assert.equal(firstChild(parseXml(result.verifiedXml!).documentElement!, NS.ds, 'Signature'), undefined);
  });

  it('reports unsigned messages as such', () => {
    assert.deepEqual(verifyXmlSignature(logoutRequest(), { certs: [sp.cert], allowSha1: false }), { signed: false });
  });

  it('verifies a Response signed around an already signed Assertion, at both levels', () => {
    const signedAssertion = signXml(assertion(), { key: idp.key, cert: idp.cert, rootLocalName: 'Assertion' });
    const response = buildResponse({ issuer: 'https://idp.example', destination: 'https://sp.example/acs', status: STATUS.success, assertionXml: signedAssertion, now });
    const signed = signXml(response, { key: idp.key, cert: idp.cert, rootLocalName: 'Response' });
    const outer = verifyXmlSignature(signed, { certs: [idp.cert], allowSha1: false, rootLocalName: 'Response' });
    assert.equal(outer.signed, true);
    const inner = firstChild(parseXml(outer.verifiedXml!).documentElement!, NS.saml, 'Assertion')!;
    const innerResult = verifyXmlSignature(serialize(inner), { certs: [idp.cert], allowSha1: false, rootLocalName: 'Assertion' });
    assert.equal(innerResult.signed, true);
  });

  it('refuses a tampered message', () => {
    const signed = signXml(logoutRequest(), { key: sp.key, cert: sp.cert, rootLocalName: 'LogoutRequest' });
    const tampered = signed.replace('>alice<', '>admin<');
    assertSamlError(() => verifyXmlSignature(tampered, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_INVALID');
  });

  it('refuses a signature by an unregistered key even when its certificate is in KeyInfo', () => {
    const signed = signXml(logoutRequest(), { key: evil.key, cert: evil.cert, rootLocalName: 'LogoutRequest' });
    assert.ok(signed.includes('X509Certificate'));
    assertSamlError(() => verifyXmlSignature(signed, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_INVALID');
    assertSamlError(() => verifyXmlSignature(signed, { certs: [], allowSha1: false }), 403, 'NO_CERTIFICATE');
  });

  it('refuses SHA-1 unless allowed for the peer', () => {
    const xml = logoutRequest();
    const signer = new SignedXml({ privateKey: sp.key, publicCert: sp.cert, signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
    signer.addReference({ xpath: "/*[local-name(.)='LogoutRequest']", transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'], digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1' });
    signer.computeSignature(xml, { prefix: 'ds', location: { reference: "/*/*[local-name(.)='Issuer']", action: 'after' } });
    const sha1 = signer.getSignedXml();
    assertSamlError(() => verifyXmlSignature(sha1, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_ALGORITHM');
    assert.equal(verifyXmlSignature(sha1, { certs: [sp.cert], allowSha1: true }).signed, true);
  });

  it('refuses a second signature on the root', () => {
    const signed = signXml(logoutRequest(), { key: sp.key, cert: sp.cert, rootLocalName: 'LogoutRequest' });
    const sig = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    const doubled = signed.replace(sig, sig + sig);
    assertSamlError(() => verifyXmlSignature(doubled, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_WRAPPING');
  });
});

describe('signature wrapping', () => {
  const signed = signXml(logoutRequest('alice'), { key: sp.key, cert: sp.cert, rootLocalName: 'LogoutRequest' });
  const id = /ID="([^"]+)"/.exec(signed)![1]!;
  const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
  const evilRoot = (rootId: string, inner: string, withSignature: boolean) =>
    `<samlp:LogoutRequest xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${rootId}" Version="2.0" IssueInstant="2030-01-01T12:00:00Z">` +
    `<saml:Issuer>https://sp.example</saml:Issuer>${withSignature ? signature : ''}` +
    `<samlp:Extensions>${inner}</samlp:Extensions><saml:NameID>admin</saml:NameID></samlp:LogoutRequest>`;

  it('does not treat a signed message hidden in Extensions as a signature on the evil root', () => {
    const wrapped = evilRoot('_evil', signed, false);
    assert.deepEqual(verifyXmlSignature(wrapped, { certs: [sp.cert], allowSha1: false }), { signed: false });
  });

  it('refuses the signature moved to an evil root that reuses the signed ID', () => {
    const unsignedOriginal = signed.replace(signature, '');
    const wrapped = evilRoot(id, unsignedOriginal, true);
    assertSamlError(() => verifyXmlSignature(wrapped, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_WRAPPING');
  });

  it('refuses a root signature whose reference points at a nested element', () => {
    const unsignedOriginal = signed.replace(signature, '');
    const wrapped = evilRoot('_evil', `<ds:Object xmlns:ds="${NS.ds}">${unsignedOriginal}</ds:Object>`, true);
    assertSamlError(() => verifyXmlSignature(wrapped, { certs: [sp.cert], allowSha1: false }), 403, 'SIGNATURE_WRAPPING');
  });

  it('refuses the classic assertion wrap: evil assertion at the root, the signed one inside ds:Object', () => {
    const good = signXml(assertion(), { key: sp.key, cert: sp.cert, rootLocalName: 'Assertion' });
    const goodId = /ID="([^"]+)"/.exec(good)![1]!;
    const goodSignature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(good)![0];
    const evilAssertion = assertion().replace(/ID="[^"]+"/, `ID="${goodId}"`).replace('>alice<', '>admin<');
    const object = `<ds:Object>${good.replace(goodSignature, '')}</ds:Object></ds:Signature>`;
    const wrapped = evilAssertion.replace('</saml:Issuer>', `</saml:Issuer>${goodSignature.replace('</ds:Signature>', object)}`);
    assertSamlError(() => verifyXmlSignature(wrapped, { certs: [sp.cert], allowSha1: false, rootLocalName: 'Assertion' }), 403, 'SIGNATURE_WRAPPING');
  });

  it('reads a comment-split NameID in full, so the signed value is what is read', () => {
    const injected = logoutRequest('admin@evil.example').replace('admin@evil', 'admin<!---->@evil');
    const signedInjected = signXml(injected, { key: sp.key, cert: sp.cert, rootLocalName: 'LogoutRequest' });
    const { verifiedXml } = verifyXmlSignature(signedInjected, { certs: [sp.cert], allowSha1: false });
    assert.equal(parseLogoutRequest(verifiedXml!).nameId, 'admin@evil.example');
    assert.equal(parseLogoutRequest(injected).nameId, 'admin@evil.example');
    assert.equal(textOf(firstChild(parseXml(injected).documentElement!, NS.saml, 'NameID')!), 'admin@evil.example');
  });
});

describe('redirect signatures', () => {
  it('signs and verifies octets, refusing other keys, other octets and SHA-1 unless allowed', () => {
    const { sigAlg, signature } = signRedirect('SAMLRequest=abc&SigAlg=x', sp.key);
    const bytes = Buffer.from(signature, 'base64');
    verifyRedirectSignature('SAMLRequest=abc&SigAlg=x', sigAlg, bytes, [evil.cert, sp.cert], false);
    assertSamlError(() => verifyRedirectSignature('SAMLRequest=abd&SigAlg=x', sigAlg, bytes, [sp.cert], false), 403, 'SIGNATURE_INVALID');
    assertSamlError(() => verifyRedirectSignature('SAMLRequest=abc&SigAlg=x', sigAlg, bytes, [evil.cert], false), 403, 'SIGNATURE_INVALID');
    assertSamlError(() => verifyRedirectSignature('x', 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', bytes, [sp.cert], false), 403, 'SIGNATURE_ALGORITHM');
    assertSamlError(() => verifyRedirectSignature('x', 'http://www.w3.org/2000/09/xmldsig#dsa-sha1', bytes, [sp.cert], true), 403, 'SIGNATURE_ALGORITHM');
  });
});

describe('signed messages inside SOAP', () => {
  it('verifies an ArtifactResolve taken out of an envelope that declares its namespaces', () => {
    const resolve = buildArtifactResolve({ issuer: 'https://sp.example', artifact: 'AAQAAA==', destination: 'https://idp.example/saml/artifact', now });
    const signed = signXml(resolve, { key: sp.key, cert: sp.cert, rootLocalName: 'ArtifactResolve' });
    // Move the declarations up to the envelope, as SOAP stacks commonly do; exclusive c14n must not care.
    const inner = signed.replace(` xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"`, '');
    const envelope = `<S:Envelope xmlns:S="${NS.soap11}" xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}"><S:Header/><S:Body>${inner}</S:Body></S:Envelope>`;
    const element = soapBody(parseXml(envelope));
    const result = verifyXmlSignature(serialize(element), { certs: [sp.cert], allowSha1: false, rootLocalName: 'ArtifactResolve' });
    assert.equal(result.signed, true);
    assert.equal(parseArtifactResolve(result.verifiedXml!).artifact, 'AAQAAA==');
    assertSamlError(() => verifyXmlSignature(serialize(element), { certs: [sp.cert], allowSha1: false, rootLocalName: 'LogoutRequest' }), 400, 'WRONG_ROOT');
  });
});
