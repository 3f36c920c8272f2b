// The service-provider part of the shared durable-store suite, run by durableStoreCases() (store.case.test.ts) for
// every backend. (This module and store.case.test.ts import each other; nothing of either is used before both load.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, type WithDatabase } from './store.case.test.js';
import type { NewServiceProvider } from './types.js';

/** Not a real certificate, only its PEM shape: the store checks shape; the SAML layer checks meaning. */
const CERT = `-----BEGIN CERTIFICATE-----\n${Buffer.from('cohort-test-certificate').toString('base64')}\n-----END CERTIFICATE-----\n`;

export function sp(entityId: string, overrides: Partial<NewServiceProvider> = {}): NewServiceProvider {
  return {
    entityId,
    name: 'Wiki',
    metadataXml: `<EntityDescriptor entityID="${entityId}"/>`,
    assertionConsumerServices: [{ binding: 'HTTP-POST', location: 'https://wiki.example.org/saml/acs', index: 0, isDefault: true }],
    singleLogoutServices: [{ binding: 'HTTP-Redirect', location: 'https://wiki.example.org/saml/slo' }],
    signingCertificates: [CERT],
    encryptionCertificates: [],
    requireSignedRequests: false,
    allowSha1: false,
    nameIdFormat: 'persistent',
    attributes: ['email', 'groups'],
    signResponse: true,
    signAssertion: true,
    encryptAssertion: 'none',
    ...overrides,
  };
}

export function serviceProviderCases(withDatabase: WithDatabase): void {
  describe('service providers', () => {
    it('creates, reads, lists in creation order, updates and removes', () => withDatabase(async ({ store, clock }) => {
      const created = await store.serviceProviders.create(sp('https://wiki.example.org/sp'));
      assert.deepEqual(created, { ...sp('https://wiki.example.org/sp'), createdAt: clock.now() });
      clock.advance(1000);
      await store.serviceProviders.create(sp('https://crm.example.org/sp', { name: 'CRM' }));
      assert.deepEqual((await store.serviceProviders.list()).map((s) => s.entityId), ['https://wiki.example.org/sp', 'https://crm.example.org/sp']);
      const updated = await store.serviceProviders.update(sp('https://wiki.example.org/sp', { attributes: ['username'] }));
      assert.deepEqual(updated.attributes, ['username']);
      assert.equal(updated.createdAt, created.createdAt);
      await store.serviceProviders.remove('https://wiki.example.org/sp');
      assert.equal(await store.serviceProviders.get('https://wiki.example.org/sp'), undefined);
      await rejectsWith(store.serviceProviders.remove('https://wiki.example.org/sp'), 'NOT_FOUND');
      await rejectsWith(store.serviceProviders.update(sp('https://nobody.example.org')), 'NOT_FOUND');
    }));

    it('refuses a second registration of one entityID', () => withDatabase(async ({ store }) => {
      await store.serviceProviders.create(sp('https://wiki.example.org/sp'));
      await rejectsWith(store.serviceProviders.create(sp('https://wiki.example.org/sp')), 'CONFLICT', 'already exists');
    }));

    it('refuses invalid records with the field named', () => withDatabase(async ({ store }) => {
      const cases: Array<[Partial<NewServiceProvider>, string]> = [
        [{ entityId: '' }, 'entityId'],
        [{ assertionConsumerServices: [] }, 'AssertionConsumerService'],
        [{ assertionConsumerServices: [{ binding: 'HTTP-POST', location: 'javascript:alert(1)' }] }, 'location'],
        [{ nameIdFormat: 'kerberos' as 'persistent' }, 'nameIdFormat'],
        [{ attributes: ['password'] }, 'attributes'],
        [{ encryptAssertion: 'aes256-gcm' }, 'encryption certificate'],
        [{ signingCertificates: ['not a pem'] }, 'signingCertificates'],
        [{ signResponse: false, signAssertion: false }, 'signResponse'],
      ];
      for (const [overrides, mentions] of cases) {
        await rejectsWith(store.serviceProviders.create(sp('https://bad.example.org', overrides)), 'INVALID', mentions);
      }
      assert.deepEqual(await store.serviceProviders.list(), []);
    }));

    it('keeps certificates byte for byte and answers undefined for an unknown entityID', () => withDatabase(async ({ store }) => {
      const stored = await store.serviceProviders.create(sp('https://wiki.example.org/sp', { encryptionCertificates: [CERT], encryptAssertion: 'aes256-gcm' }));
      assert.equal((await store.serviceProviders.get(stored.entityId))!.encryptionCertificates[0], CERT);
      assert.equal(await store.serviceProviders.get('https://unknown.example.org'), undefined);
    }));
  });
}
