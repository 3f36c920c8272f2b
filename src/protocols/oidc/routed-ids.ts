// Makes every ID oidc-provider mints for the cluster to route carry this node's index (src/state/routed-id.ts):
// session ids (the session cookie's value) and uids, and the ids of every token model (codes, access, refresh and
// client-credentials tokens, grants, PAR and device codes). With it, any node can route a cookie or a token to the
// node that owns it, and its failover peers when that node is gone, without asking the whole cluster.
//
// oidc-provider mints these with nanoid inside its model classes and has no option for it, so the few methods that
// mint are wrapped here, in this one place. Each wrapper keeps the library's randomness and only appends the index.
import type Provider from 'oidc-provider';
import { ownerIndexOf, routedId } from '../../state/routed-id.js';

const TOKEN_MODELS = [
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'Grant', 'PushedAuthorizationRequest', 'RegistrationAccessToken',
  'InitialAccessToken',
] as const;

type Minting = { prototype: { generateTokenId?: (this: unknown) => string } };
type SessionClass = {
  instantiate(this: SessionClass, payload?: Record<string, unknown>): { jti: string; uid: string };
  prototype: { resetIdentifier(this: { id: string; oldId?: string; touched?: boolean; uid?: string }): void };
};

export function routeProviderIds(provider: Provider, nodeIndex: number): void {
  for (const name of TOKEN_MODELS) {
    const model = (provider as unknown as Record<string, Minting | undefined>)[name];
    const original = model?.prototype.generateTokenId;
    if (!model || !original) continue;
    model.prototype.generateTokenId = function generateRoutedTokenId(this: unknown) {
      return routedId(nodeIndex, original.call(this));
    };
  }

  const Session = provider.Session as unknown as SessionClass;
  const instantiate = Session.instantiate;
  Session.instantiate = function instantiateRouted(this: SessionClass, payload?: Record<string, unknown>) {
    const session = instantiate.call(this, payload);
    // Only brand-new sessions get new ids; stored ones keep theirs (and so their owner).
    if (!payload?.jti) {
      session.jti = routedId(nodeIndex);
      session.uid = routedId(nodeIndex);
    }
    return session;
  };
  Session.prototype.resetIdentifier = function resetRoutedIdentifier(this: { id: string; oldId?: string; touched?: boolean; uid?: string }) {
    // Session fixation defence at sign-in: a fresh id. It keeps the owner its uid names (the node where the browser's
    // session began), so lookups by id and by uid reach the same owner whichever node handled the sign-in.
    this.oldId = this.id;
    this.id = routedId(ownerIndexOf(this.uid ?? '') ?? nodeIndex);
    this.touched = true;
  };
}
