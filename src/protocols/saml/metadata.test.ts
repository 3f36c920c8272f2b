import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpMetadata, pemBody } from './metadata.js';
import { testKeys } from './test-keys.js';
import { assertSamlError } from './test-assert.js';

const sign = testKeys('saml-sp');
const enc = testKeys('saml-sp-enc');
const B = 'urn:oasis:names:tc:SAML:2.0:bindings:';
const keyInfo = (pem: string) =>
  `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:KeyName>sp</ds:KeyName><ds:X509Data><ds:X509Certificate>\n${pemBody(pem).match(/.{1,64}/g)!.join('\n')}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;

// The shape Shibboleth SP 3 generates at /Shibboleth.sso/Metadata.
const shibboleth = `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_abc" entityID="https://sp.example.org/shibboleth">
  <md:Extensions xmlns:alg="urn:oasis:names:tc:SAML:metadata:algsupport">
    <alg:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
  </md:Extensions>
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:1.0:protocol">
    <md:Extensions>
      <init:RequestInitiator xmlns:init="urn:oasis:names:tc:SAML:profiles:SSO:request-init" Binding="urn:oasis:names:tc:SAML:profiles:SSO:request-init" Location="https://sp.example.org/Shibboleth.sso/Login"/>
    </md:Extensions>
    <md:KeyDescriptor>${keyInfo(sign.cert)}
      <md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>
    </md:KeyDescriptor>
    <md:KeyDescriptor use="encryption">${keyInfo(enc.cert)}</md:KeyDescriptor>
    <md:ArtifactResolutionService Binding="${B}SOAP" Location="https://sp.example.org/Shibboleth.sso/Artifact/SOAP" index="1"/>
    <md:SingleLogoutService Binding="${B}SOAP" Location="https://sp.example.org/Shibboleth.sso/SLO/SOAP"/>
    <md:SingleLogoutService Binding="${B}HTTP-Redirect" Location="https://sp.example.org/Shibboleth.sso/SLO/Redirect"/>
    <md:SingleLogoutService Binding="${B}HTTP-POST" Location="https://sp.example.org/Shibboleth.sso/SLO/POST" ResponseLocation="https://sp.example.org/Shibboleth.sso/SLO/POST/Response"/>
    <md:SingleLogoutService Binding="${B}HTTP-Artifact" Location="https://sp.example.org/Shibboleth.sso/SLO/Artifact"/>
    <md:AssertionConsumerService Binding="${B}HTTP-POST" Location="https://sp.example.org/Shibboleth.sso/SAML2/POST" index="1"/>
    <md:AssertionConsumerService Binding="${B}HTTP-POST-SimpleSign" Location="https://sp.example.org/Shibboleth.sso/SAML2/POST-SimpleSign" index="2"/>
    <md:AssertionConsumerService Binding="${B}HTTP-Artifact" Location="https://sp.example.org/Shibboleth.sso/SAML2/Artifact" index="3"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS" Location="https://sp.example.org/Shibboleth.sso/SAML2/ECP" index="4"/>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:1.0:profiles:browser-post" Location="https://sp.example.org/Shibboleth.sso/SAML/POST" index="5"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>`;

// The shape mod_auth_mellon's mellon_create_metadata.sh generates: default namespace, signed requests.
const mellon = `<EntityDescriptor entityID="https://app.example.org/mellon/metadata" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing">${keyInfo(sign.cert)}</KeyDescriptor>
    <KeyDescriptor use="encryption">${keyInfo(enc.cert)}</KeyDescriptor>
    <SingleLogoutService Binding="${B}HTTP-Redirect" Location="https://app.example.org/mellon/logout"/>
    <SingleLogoutService Binding="${B}SOAP" Location="https://app.example.org/mellon/logout"/>
    <NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</NameIDFormat>
    <AssertionConsumerService index="0" isDefault="true" Binding="${B}HTTP-POST" Location="https://app.example.org/mellon/postResponse"/>
    <AssertionConsumerService index="1" Binding="${B}HTTP-Artifact" Location="https://app.example.org/mellon/artifactResponse"/>
    <AssertionConsumerService index="2" Binding="${B}PAOS" Location="https://app.example.org/mellon/paosResponse"/>
  </SPSSODescriptor>
</EntityDescriptor>`;

const same = (a: string, b: string) => assert.equal(a.replace(/\s/g, ''), b.replace(/\s/g, ''));

describe('parseSpMetadata', () => {
  it('reads Shibboleth SP metadata: supported ACS bindings only, keys by use', () => {
    const sp = parseSpMetadata(shibboleth);
    assert.equal(sp.entityId, 'https://sp.example.org/shibboleth');
    assert.equal(sp.metadataXml, shibboleth);
    assert.deepEqual(sp.assertionConsumerServices, [
      { binding: 'HTTP-POST', location: 'https://sp.example.org/Shibboleth.sso/SAML2/POST', index: 1 },
      { binding: 'HTTP-Artifact', location: 'https://sp.example.org/Shibboleth.sso/SAML2/Artifact', index: 3 },
    ]);
    assert.deepEqual(sp.singleLogoutServices.map((s) => s.binding), ['SOAP', 'HTTP-Redirect', 'HTTP-POST', 'HTTP-Artifact']);
    assert.equal(sp.singleLogoutServices[2]!.responseLocation, 'https://sp.example.org/Shibboleth.sso/SLO/POST/Response');
    assert.equal(sp.signingCertificates.length, 1);
    same(sp.signingCertificates[0]!, sign.cert);
    assert.equal(sp.encryptionCertificates.length, 2);
    same(sp.encryptionCertificates[1]!, enc.cert);
    assert.equal(sp.requireSignedRequests, false);
    assert.equal(sp.wantAssertionsSigned, false);
    assert.deepEqual(sp.nameIdFormats, []);
  });

  it('reads mod_auth_mellon metadata in the default namespace', () => {
    const sp = parseSpMetadata(mellon);
    assert.equal(sp.entityId, 'https://app.example.org/mellon/metadata');
    assert.deepEqual(sp.assertionConsumerServices[0], { binding: 'HTTP-POST', location: 'https://app.example.org/mellon/postResponse', index: 0, isDefault: true });
    assert.equal(sp.assertionConsumerServices.length, 2);
    assert.equal(sp.requireSignedRequests, true);
    assert.equal(sp.wantAssertionsSigned, true);
    assert.deepEqual(sp.nameIdFormats, ['urn:oasis:names:tc:SAML:2.0:nameid-format:transient']);
    same(sp.signingCertificates[0]!, sign.cert);
    same(sp.encryptionCertificates[0]!, enc.cert);
    assert.equal(sp.encryptionCertificates.length, 1);
  });

  it('takes the single SP out of an EntitiesDescriptor', () => {
    const group = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${shibboleth.replace(/^<\?xml[^>]*>/, '')}</md:EntitiesDescriptor>`;
    assert.equal(parseSpMetadata(group).entityId, 'https://sp.example.org/shibboleth');
    const two = group.replace('</md:EntitiesDescriptor>', `${mellon}</md:EntitiesDescriptor>`);
    assertSamlError(() => parseSpMetadata(two), 400, 'METADATA_INVALID');
  });

  it('refuses metadata that cannot be used, with clear messages', () => {
    const idpOnly = '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>';
    assert.equal(assertSamlError(() => parseSpMetadata(idpOnly), 400, 'METADATA_INVALID').message, 'The metadata has no SPSSODescriptor.');
    assertSamlError(() => parseSpMetadata(mellon.replace('urn:oasis:names:tc:SAML:2.0:protocol"', 'urn:oasis:names:tc:SAML:1.1:protocol"')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(mellon.replace(' entityID="https://app.example.org/mellon/metadata"', '')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(mellon.replace('https://app.example.org/mellon/postResponse', 'javascript:alert(1)')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(mellon.replace('index="1"', 'index="0"')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(mellon.replace(/<AssertionConsumerService index="[01]"[^>]*>/g, '')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(mellon.replace(/<ds:X509Certificate>[^<]+/, '<ds:X509Certificate>AAAA')), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata('<x/>'), 400, 'METADATA_INVALID');
    assertSamlError(() => parseSpMetadata(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${mellon}`), 400, 'XML_DTD');
  });
});
