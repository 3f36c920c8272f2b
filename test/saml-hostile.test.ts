// Hostile SAML messages against a running node: each is refused with a 4xx and a clear error, none crashes or
// stalls the node, and a normal sign-in still works afterwards. The messages are built the way an attacker would:
// from a genuine, signed request of a registered SP (node-saml), then altered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Browser } from './support/browser.js';
import { runCli, startCohort, tempDir, type CohortProcess } from './support/processes.js';
import { autoPostForm, samlSignIn, TestSp } from './support/saml-sp.js';
import { resolveArtifact } from './support/saml-artifact.js';

const ALICE = { username: 'alice', password: 'correct horse battery staple' };

function authnRequest(o: { issuer: string; destination: string; issueInstant?: Date; acs?: string; id?: string }): string {
  return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" `
    + `ID="${o.id ?? `_${randomBytes(16).toString('hex')}`}" Version="2.0" IssueInstant="${(o.issueInstant ?? new Date()).toISOString()}" `
    + `Destination="${o.destination}"${o.acs ? ` AssertionConsumerServiceURL="${o.acs}"` : ''}>`
    + `<saml:Issuer>${o.issuer}</saml:Issuer></samlp:AuthnRequest>`;
}

const redirectQuery = (xml: string) => `SAMLRequest=${encodeURIComponent(deflateRawSync(Buffer.from(xml)).toString('base64'))}`;
const postField = (xml: string) => Buffer.from(xml).toString('base64');

describe('SAML hostile input (single node)', () => {
  const dir = tempDir();
  let node: CohortProcess;
  const strict = new TestSp('strict', { signRequests: true, requestBinding: 'HTTP-POST' });
  const lax = new TestSp('lax');
  let sso = '';

  before(async () => {
    await strict.start();
    await lax.start();
    const env = { COHORT_DATA_DIR: dir.path };
    assert.equal((await runCli(['users', 'add', 'alice', '--password-stdin'], { stdin: `${ALICE.password}\n`, env })).code, 0);
    assert.equal((await runCli(['sps', 'add', '--metadata', strict.writeMetadata(dir.path)], { env })).code, 0);
    assert.equal((await runCli(['sps', 'add', '--metadata', lax.writeMetadata(dir.path)], { env })).code, 0);
    node = await startCohort({ dataDir: dir.path, env: { COHORT_ADMIN_PASSWORD: 'admin-password-for-tests' } });
    await strict.trustIdp(node.issuer);
    await lax.trustIdp(node.issuer);
    sso = `${node.issuer}/saml/sso`;
  });

  after(async () => {
    await node?.stop();
    await strict.stop();
    await lax.stop();
    dir.remove();
  });

  /** A genuine signed POST AuthnRequest of the strict SP, as XML. */
  async function genuineSigned(): Promise<string> {
    const form = autoPostForm(await strict.saml(node.issuer).getAuthorizeFormAsync('', undefined, {}));
    const bytes = Buffer.from(form.fields.SAMLRequest!, 'base64');
    return bytes[0] === 0x3c ? bytes.toString() : inflateRawSync(bytes).toString();
  }

  async function post(xml: string | Buffer, raw = false) {
    const body = new URLSearchParams({ SAMLRequest: raw ? xml.toString() : postField(xml.toString()) }).toString();
    return fetch(sso, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, redirect: 'manual' });
  }

  async function expectRefused(res: Response, status: number, code?: RegExp) {
    const text = await res.text();
    assert.equal(res.status, status, text.slice(0, 300));
    if (code) assert.match(text, code);
  }

  it('refuses a DOCTYPE with an external entity (XXE) and entity expansion', async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>${authnRequest({ issuer: lax.entityId, destination: sso }).replace('</saml:Issuer>', '&e;</saml:Issuer>')}`;
    await expectRefused(await post(xxe), 400, /XML_DTD/);
    const laughs = `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>`;
    await expectRefused(await post(laughs), 400, /XML_DTD/);
  });

  it('refuses signature wrapping: the signed request hidden inside an unsigned one', async () => {
    const signed = await genuineSigned();
    const wrapped = authnRequest({ issuer: strict.entityId, destination: sso, acs: 'https://evil.example/acs' })
      .replace('</saml:Issuer>', `</saml:Issuer><samlp:Extensions>${signed.replace(/^<\?xml[^>]*\?>/, '')}</samlp:Extensions>`);
    await expectRefused(await post(wrapped), 403);
  });

  it('refuses a tampered signed request (ACS changed after signing)', async () => {
    const signed = await genuineSigned();
    const tampered = signed.replace(/AssertionConsumerServiceURL="[^"]*"/, 'AssertionConsumerServiceURL="https://evil.example/acs"');
    assert.notEqual(tampered, signed);
    await expectRefused(await post(tampered), 403);
  });

  it('refuses an unsigned request from an SP that must sign', async () => {
    await expectRefused(await post(authnRequest({ issuer: strict.entityId, destination: sso })), 403, /UNSIGNED/);
  });

  it('refuses a replayed request', async () => {
    const signed = await genuineSigned();
    const first = await post(signed);
    assert.equal(first.status, 303, await first.text());
    await expectRefused(await post(signed), 403, /REPLAYED/);
  });

  it('refuses wrong Destination, stale and future IssueInstant, unknown SP, unregistered ACS', async () => {
    const cases: Array<[string, number, RegExp]> = [
      [authnRequest({ issuer: lax.entityId, destination: 'https://other-idp.example/sso' }), 400, /WRONG_DESTINATION/],
      [authnRequest({ issuer: lax.entityId, destination: sso, issueInstant: new Date(Date.now() - 3_600_000) }), 400, /STALE_MESSAGE/],
      [authnRequest({ issuer: lax.entityId, destination: sso, issueInstant: new Date(Date.now() + 3_600_000) }), 400, /FUTURE_MESSAGE/],
      [authnRequest({ issuer: 'https://unknown.example/sp', destination: sso }), 403, /UNKNOWN_SP/],
      [authnRequest({ issuer: lax.entityId, destination: sso, acs: 'https://evil.example/acs' }), 403, /ACS_NOT_REGISTERED/],
    ];
    for (const [xml, status, code] of cases) {
      const res = await fetch(`${sso}?${redirectQuery(xml)}`, { headers: { accept: 'application/json' }, redirect: 'manual' });
      await expectRefused(res, status, code);
    }
  });

  it('refuses oversized and malformed encodings', async () => {
    const bomb = deflateRawSync(Buffer.alloc(2 * 1024 * 1024, 0x20));
    const res = await fetch(`${sso}?SAMLRequest=${encodeURIComponent(bomb.toString('base64'))}`, { headers: { accept: 'application/json' } });
    await expectRefused(res, 413);
    await expectRefused(await post('!!!not base64!!!', true), 400);
    await expectRefused(await post(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), true), 400);
    await expectRefused(await post('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'), 400);
  });

  it('answers bad ArtifactResolve calls with SOAP faults, and unknown artifacts with no message', async () => {
    const endpoint = `${node.issuer}/saml/artifact`;
    const garbage = await fetch(endpoint, { method: 'POST', body: '<not-soap/>', headers: { 'content-type': 'text/xml' } });
    assert.equal(garbage.status, 400);
    assert.match(await garbage.text(), /Fault/);
    const unknown = Buffer.alloc(44);
    unknown.writeUInt16BE(4, 0);
    const fake = (await resolveArtifact(endpoint, lax, unknown.toString('base64'))).status;
    assert.equal(fake, 400, 'an artifact from another source is refused');
    const unsigned = await resolveArtifact(endpoint, lax, unknown.toString('base64'), { unsigned: true });
    assert.equal(unsigned.status, 403);
  });

  it('is still up and still signs users in afterwards', async () => {
    const status = await fetch(`${node.url}/status/v2/lbstatus`);
    assert.equal(status.status, 200);
    const browser = new Browser();
    const sp = lax.saml(node.issuer);
    const arrival = await samlSignIn(browser, await sp.getAuthorizeUrlAsync('', undefined, {}), new URL(lax.acsUrl).origin, ALICE);
    assert.ok((await sp.validatePostResponseAsync({ SAMLResponse: arrival.samlResponse! })).profile?.nameID);
  });
});
