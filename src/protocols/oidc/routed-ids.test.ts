import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Provider from 'oidc-provider';
import { routeProviderIds } from './routed-ids.js';
import { ownerIndexOf, routedId } from '../../state/routed-id.js';

type TestSession = { id: string; uid: string; jti: string; resetIdentifier(): void };

describe('routed ids in oidc-provider', () => {
  const provider = new Provider('http://127.0.0.1:1', {});
  routeProviderIds(provider, 2);
  const Session = provider.Session as unknown as { instantiate(payload?: Record<string, unknown>): TestSession };

  it('mints new sessions owned by this node', () => {
    const session = Session.instantiate();
    assert.equal(ownerIndexOf(session.id), 2);
    assert.equal(ownerIndexOf(session.uid), 2);
  });

  it('keeps stored sessions as they are', () => {
    const id = routedId(1);
    const session = Session.instantiate({ jti: id, uid: routedId(1), kind: 'Session' });
    assert.equal(session.id, id);
  });

  it('renews the id at sign-in with the owner of the uid, so id and uid route to the same node', () => {
    // A browser whose session began on node 1 signs in through node 2 (a round-robin balancer).
    const session = Session.instantiate({ jti: routedId(1), uid: routedId(1), kind: 'Session' });
    const before = session.id;
    session.resetIdentifier();
    assert.notEqual(session.id, before);
    assert.equal(ownerIndexOf(session.id), 1);
  });

  it('mints token ids owned by this node', () => {
    const token = new provider.AccessToken({ accountId: 'a', clientId: 'c', grantId: 'g', scope: 'openid' } as never);
    const id = (token as unknown as { generateTokenId(): string }).generateTokenId();
    assert.equal(ownerIndexOf(id), 2);
  });
});
