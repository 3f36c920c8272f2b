import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateClusterSecret } from '../cluster/secret.js';
import type { ClientRecord, KeyRecord } from '../store/types.js';
import { ArchiveError, createArchive, openArchive } from './archive.js';
import { canonicalJson } from './canonical.js';
import { diffContent } from './diff.js';
import { defaultSettings, mergeSettings, SettingsError } from './settings.js';
import { runtimeOf, sha256Hex, snapshotOf, SnapshotError } from './snapshot.js';
import type { RuntimeContent } from './types.js';

const settings = defaultSettings({ session: { ttlSeconds: 60, maxPerUser: 0, limitAction: 'refuse', allowLogoutAll: false }, saml: { enabled: true } as never });
const client = (id: string, extra: Partial<ClientRecord> = {}): ClientRecord => ({
  clientId: id, public: false, redirectUris: [`https://${id}.example.org/cb`], postLogoutRedirectUris: [], grantTypes: ['authorization_code'],
  secretHash: 'A'.repeat(43), createdAt: 1, ...extra,
});
const key = (kid: string, extra: Partial<KeyRecord> = {}): KeyRecord =>
  ({ kid, use: 'sig', alg: 'RS256', material: `{"kid":"${kid}","d":"private"}`, createdAt: 1, retired: false, ...extra });
const content = (extra: Partial<RuntimeContent> = {}): RuntimeContent =>
  ({ clients: [client('wiki')], serviceProviders: [], keys: [key('k1')], settings, ...extra });

describe('runtime configuration', () => {
  it('gives equal content the same canonical text and digest, whatever the key order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: undefined } }), '{"a":{"d":[1,{"e":2,"f":1}]},"b":1}');
    const a = snapshotOf(content());
    const b = snapshotOf(JSON.parse(JSON.stringify({ settings, keys: [key('k1')], serviceProviders: [], clients: [client('wiki')] })) as RuntimeContent);
    assert.equal(a.digest, b.digest);
    assert.equal(a.digest, sha256Hex(a.snapshot));
    assert.notEqual(snapshotOf(content({ clients: [client('wiki', { redirectUris: ['https://x.example.org/cb'] })] })).digest, a.digest);
  });

  it('reads a version back only when its digest matches', () => {
    const { snapshot, digest } = snapshotOf(content());
    const runtime = runtimeOf({ version: 3, publishedAt: 5, publishedBy: 'admin', digest, snapshot });
    assert.equal(runtime.version, 3);
    assert.deepEqual(runtime.clients, [client('wiki')]);
    assert.throws(() => runtimeOf({ version: 3, publishedAt: 5, publishedBy: 'admin', digest, snapshot: snapshot.replace('wiki', 'evil') }), SnapshotError);
  });

  it('diffs staged against published by record and field, never showing values', () => {
    const before = content({ clients: [client('wiki'), client('crm')], keys: [key('k1')] });
    const after = content({
      clients: [client('wiki', { redirectUris: ['https://wiki.example.org/new'] }), client('blog')],
      keys: [key('k1', { retired: true }), key('k2')],
      settings: mergeSettings(settings, { session: { maxPerUser: 2 } }),
    });
    assert.deepEqual(diffContent(before, after), [
      { kind: 'client', id: 'wiki', change: 'modified', fields: ['redirectUris'] },
      { kind: 'client', id: 'blog', change: 'added' },
      { kind: 'client', id: 'crm', change: 'removed' },
      { kind: 'key', id: 'k1', change: 'modified', fields: ['retired'] },
      { kind: 'key', id: 'k2', change: 'added' },
      { kind: 'setting', id: 'session', change: 'modified', fields: ['maxPerUser'] },
    ]);
    assert.deepEqual(diffContent(before, before), []);
    assert.deepEqual(diffContent(undefined, content()).map((c) => `${c.kind}:${c.change}`), ['client:added', 'key:added']);
  });

  it('validates settings field by field', () => {
    assert.equal(mergeSettings(settings, { branding: { productName: 'Acme' } }).branding.productName, 'Acme');
    for (const [input, field] of [[{ session: { maxPerUser: -1 } }, 'session.maxPerUser'], [{ session: { limitAction: 'x' } }, 'session.limitAction'],
      [{ protocols: { oidc: 'yes' } }, 'protocols.oidc'], [{ branding: { accentColor: 'red' } }, 'branding.accentColor'],
      [{ other: 1 }, 'other'], [{ branding: { productName: '' } }, 'branding.productName']] as const) {
      assert.throws(() => mergeSettings(settings, input), (err: unknown) => err instanceof SettingsError && err.field === field, field);
    }
  });

  it('round-trips an archive, encrypting every secret, and refuses tampering or another secret', () => {
    const secret = generateClusterSecret();
    const archive = createArchive(content(), secret, 'prod');
    const text = JSON.stringify(archive);
    assert.ok(!text.includes('private') && !text.includes('A'.repeat(43)), 'secrets are encrypted');
    assert.deepEqual(openArchive(JSON.parse(text), secret).content, content());

    const altered = JSON.parse(text) as typeof archive;
    altered.content.clients[0]!.redirectUris = ['https://evil.example.org/cb'];
    assert.throws(() => openArchive(altered, secret), (err: unknown) => err instanceof ArchiveError && /altered or made with another cluster secret/.test(err.message));
    // Swapping two encrypted values is caught too (each is bound to its record).
    const swapped = createArchive(content({ keys: [key('k1'), key('k2')] }), secret, 'prod');
    [swapped.content.keys[0]!.material, swapped.content.keys[1]!.material] = [swapped.content.keys[1]!.material, swapped.content.keys[0]!.material];
    assert.throws(() => openArchive(swapped, secret), ArchiveError);
    assert.throws(() => openArchive(JSON.parse(text), generateClusterSecret()), /another cluster secret/);
    assert.throws(() => openArchive({ format: 'zip' }, secret), /not a Cohort configuration archive/);
  });
});
