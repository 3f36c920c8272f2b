// What every SAML endpoint of this node shares: the IdP's identity and URLs, its signing key, the registered SPs
// and the state services. Built once per runtime configuration by routes.ts.
import type Provider from 'oidc-provider';
import type { CohortConfig } from '../../config/types.js';
import { parseArtifactEndpoints } from '../../config/schema.js';
import type { StateServices } from '../../state/types.js';
import type { ServiceProviderRecord, ServiceProviderStore, UserStore } from '../../store/types.js';
import type { Logger } from '../../ops/logger.js';
import { SamlError } from './errors.js';
import type { IdpSecrets } from './idp-secrets.js';

export interface SamlIdpDeps {
  config: CohortConfig['saml'];
  issuer: string;
  nodeIndex: number;
  /** PEM private key and the matching certificate (certificate.ts). */
  signing: { key: string; cert: string };
  secrets: IdpSecrets;
  serviceProviders: Pick<ServiceProviderStore, 'get' | 'list'>;
  users: UserStore;
  state: StateServices;
  provider: Provider;
  logger: Logger;
  sessionTtlMs: number;
  maxBodyBytes: number;
}

export class SamlIdp {
  readonly entityId: string;
  readonly urls: { metadata: string; sso: string; slo: string; sloSoap: string; artifact: string; init: string };
  readonly artifactEndpoints: Array<{ index: number; location: string }>;

  constructor(readonly deps: SamlIdpDeps) {
    const base = `${deps.issuer}/saml`;
    this.entityId = deps.config.entityId || `${base}/metadata`;
    this.urls = {
      metadata: `${base}/metadata`, sso: `${base}/sso`, slo: `${base}/slo`, sloSoap: `${base}/slo/soap`,
      artifact: `${base}/artifact`, init: `${base}/init`,
    };
    const configured = parseArtifactEndpoints(deps.config.artifactEndpoints);
    this.artifactEndpoints = configured.length > 0 ? configured : [{ index: 0, location: this.urls.artifact }];
  }

  /**
   * EndpointIndex for artifacts this node issues: its own ArtifactResolutionService when per-node endpoints are
   * configured (SPs call the endpoint the index names), else the single shared one. Either way any node resolves.
   */
  get artifactEndpointIndex(): number {
    return this.artifactEndpoints.find((e) => e.index === this.deps.nodeIndex)?.index ?? this.artifactEndpoints[0]!.index;
  }

  get skewMs(): number {
    return this.deps.config.clockSkewSeconds * 1000;
  }

  get maxAgeMs(): number {
    return this.deps.config.requestMaxAgeSeconds * 1000;
  }

  /** The SP named by an Issuer; unknown SPs are refused before anything in their message is trusted. */
  async serviceProvider(entityId: string | undefined): Promise<ServiceProviderRecord> {
    const sp = entityId ? await this.deps.serviceProviders.get(entityId) : undefined;
    if (!sp) throw new SamlError(403, 'UNKNOWN_SP', 'The service provider is not registered with this identity provider.');
    return sp;
  }

  /** Records a message ID cluster-wide until it could no longer pass the freshness check; false on a replay. */
  async firstUse(kind: string, sp: string, id: string, now: number): Promise<void> {
    const fresh = await this.deps.state.replay.checkAndSet(`saml-${kind}`, `${sp}\n${id}`, now + this.maxAgeMs + 2 * this.skewMs);
    if (!fresh) throw new SamlError(403, 'REPLAYED', 'This message was already used.');
  }
}
