import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { decodePost, decodeRedirect, encodeRedirect, postFormHtml, soapBody, soapEnvelope } from './bindings.js';
import { verifyRedirectSignature } from './signature.js';
import { parseXml } from './xml.js';
import { testKeys } from './test-keys.js';
import { assertSamlError } from './test-assert.js';

const sp = testKeys('saml-sp');
const xml = '<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1">é</samlp:AuthnRequest>';
const deflated = (text: string) => encodeURIComponent(deflateRawSync(Buffer.from(text)).toString('base64'));

describe('HTTP-Redirect', () => {
  it('round-trips a signed message onto a location that already has a query', () => {
    const url = new URL(encodeRedirect('https://sp.example/slo?x=1', 'SAMLRequest', xml, 'state & more', { key: sp.key }));
    assert.equal(url.searchParams.get('x'), '1');
    const message = decodeRedirect(url.search.slice(1), 'SAMLRequest', 10_000);
    assert.equal(message.xml, xml);
    assert.equal(message.relayState, 'state & more');
    assert.equal(message.sigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    assert.ok(message.signedOctets!.startsWith('SAMLRequest='));
    assert.ok(!message.signedOctets!.includes('x=1'));
    verifyRedirectSignature(message.signedOctets!, message.sigAlg!, message.signature!, [sp.cert], false);
  });

  it('round-trips an unsigned message without RelayState', () => {
    const url = new URL(encodeRedirect('https://sp.example/acs', 'SAMLResponse', xml, undefined));
    const message = decodeRedirect(url.search, 'SAMLResponse', 10_000);
    assert.deepEqual(message, { xml });
  });

  it('fails verification when any signed parameter is changed', () => {
    const url = encodeRedirect('https://sp.example/slo', 'SAMLRequest', xml, 'relay', { key: sp.key });
    const query = new URL(url).search.slice(1).replace('RelayState=relay', 'RelayState=other');
    const message = decodeRedirect(query, 'SAMLRequest', 10_000);
    assertSamlError(() => verifyRedirectSignature(message.signedOctets!, message.sigAlg!, message.signature!, [sp.cert], false), 403);
  });

  it('refuses duplicate protocol parameters, a missing message and a half signature', () => {
    assertSamlError(() => decodeRedirect(`SAMLRequest=${deflated(xml)}&SAMLRequest=${deflated(xml)}`, 'SAMLRequest', 10_000), 400, 'DUPLICATE_PARAMETER');
    assertSamlError(() => decodeRedirect(`SAMLRequest=${deflated(xml)}&RelayState=a&RelayState=b`, 'SAMLRequest', 10_000), 400, 'DUPLICATE_PARAMETER');
    assertSamlError(() => decodeRedirect('RelayState=a', 'SAMLRequest', 10_000), 400, 'MISSING_MESSAGE');
    assertSamlError(() => decodeRedirect(`SAMLRequest=${deflated(xml)}&Signature=AAAA`, 'SAMLRequest', 10_000), 400, 'INCOMPLETE_SIGNATURE');
  });

  it('refuses bad base64, bad URL encoding and data that is not deflated', () => {
    assertSamlError(() => decodeRedirect('SAMLRequest=%%%', 'SAMLRequest', 10_000), 400, 'BAD_ENCODING');
    assertSamlError(() => decodeRedirect('SAMLRequest=ab*c', 'SAMLRequest', 10_000), 400, 'BAD_BASE64');
    assertSamlError(() => decodeRedirect('SAMLRequest=abc', 'SAMLRequest', 10_000), 400, 'BAD_BASE64');
    const notDeflated = encodeURIComponent(Buffer.from('\xff\xfe plain text').toString('base64'));
    assertSamlError(() => decodeRedirect(`SAMLRequest=${notDeflated}`, 'SAMLRequest', 10_000), 400, 'BAD_DEFLATE');
  });

  it('stops a deflate bomb at the output cap with 413', () => {
    const bomb = deflateRawSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    assert.ok(bomb.length < 100_000);
    const query = `SAMLRequest=${encodeURIComponent(bomb.toString('base64'))}`;
    assertSamlError(() => decodeRedirect(query, 'SAMLRequest', 256 * 1024), 413, 'MESSAGE_TOO_LARGE');
  });
});

describe('HTTP-POST', () => {
  it('decodes base64 with line breaks and refuses anything else', () => {
    const encoded = Buffer.from(xml).toString('base64');
    assert.equal(decodePost(encoded.replace(/(.{20})/g, '$1\r\n'), 10_000), xml);
    assertSamlError(() => decodePost('not*base64', 10_000), 400, 'BAD_BASE64');
    assertSamlError(() => decodePost('', 10_000), 400, 'MISSING_MESSAGE');
    assertSamlError(() => decodePost(Buffer.from([0xff, 0xfe]).toString('base64'), 10_000), 400, 'BAD_ENCODING');
    assertSamlError(() => decodePost(Buffer.alloc(2000).toString('base64'), 1000), 413, 'MESSAGE_TOO_LARGE');
  });

  it('builds a form that submits itself with a nonce and offers a button without JavaScript', () => {
    const html = postFormHtml('https://sp.example/acs?a=1&b="2"', { SAMLResponse: 'PHg+', RelayState: '"><script>' }, 'n0nce');
    assert.match(html, /<form method="post" action="https:\/\/sp\.example\/acs\?a=1&amp;b=&quot;2&quot;">/);
    assert.match(html, /name="RelayState" value="&quot;&gt;&lt;script&gt;"/);
    assert.match(html, /<noscript>[\s\S]*<button type="submit">Continue<\/button>[\s\S]*<\/noscript>/);
    assert.equal(html.match(/<script/g)!.length, 1);
    assert.match(html, /<script nonce="n0nce">document\.forms\[0\]\.submit\(\);<\/script>/);
  });
});

describe('SOAP', () => {
  it('wraps and unwraps one element', () => {
    const envelope = soapEnvelope('<?xml version="1.0"?><m:Thing xmlns:m="urn:m"/>');
    assert.equal(soapBody(parseXml(envelope)).localName, 'Thing');
  });

  it('refuses a non-SOAP document, an empty Body and a Body with two elements', () => {
    assertSamlError(() => soapBody(parseXml('<x/>')), 400, 'SOAP_MALFORMED');
    assertSamlError(() => soapBody(parseXml(soapEnvelope(''))), 400, 'SOAP_MALFORMED');
    assertSamlError(() => soapBody(parseXml(soapEnvelope('<a/><b/>'))), 400, 'SOAP_MALFORMED');
  });
});
