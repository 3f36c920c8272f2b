// A registered client (durable store) as oidc-provider client metadata.
import type { ClientRecord } from '../../store/types.js';

// The store keeps only SHA-256 of each client secret (src/store/client-secret.ts). oidc-provider is given that digest
// as `client_secret`, and compareClientSecret is replaced (provider.ts) to hash what the client presents before a
// constant-time compare. Methods that need the plaintext secret as a key (client_secret_jwt, HS* tokens) are disabled.

export function clientMetadata(record: ClientRecord): Record<string, unknown> {
  const grantTypes = record.grantTypes.length > 0 ? record.grantTypes : ['authorization_code', 'refresh_token'];
  const usesRedirects = grantTypes.includes('authorization_code');
  return {
    client_id: record.clientId,
    ...(record.name ? { client_name: record.name } : {}),
    ...(record.public
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: record.secretHash, token_endpoint_auth_method: 'client_secret_basic' }),
    grant_types: record.public ? grantTypes.filter((g) => g !== 'client_credentials') : grantTypes,
    response_types: usesRedirects ? ['code'] : [],
    redirect_uris: usesRedirects ? record.redirectUris : [],
    post_logout_redirect_uris: record.postLogoutRedirectUris,
    ...(record.backchannelLogoutUri
      ? { backchannel_logout_uri: record.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  };
}
