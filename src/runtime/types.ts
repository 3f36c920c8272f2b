// Runtime configuration: what an administrator changes without restarting a node (clients, service providers,
// keys, session policy, enabled protocols, branding). Staged in the console's live tables, published as immutable
// numbered versions, run by every engine (node.configSource = console). See DESIGN.md "Configuration".
import type { ClientRecord, KeyRecord, ServiceProviderRecord } from '../store/types.js';

export interface RuntimeSettings {
  session: {
    /** Concurrent SSO sessions per user across the cluster; 0 = unlimited. */
    maxPerUser: number;
    limitAction: 'refuse' | 'delete-oldest';
    allowLogoutAll: boolean;
  };
  protocols: { oidc: boolean; saml: boolean };
  branding: {
    /** Shown above every sign-in page's title. */
    productName: string;
    /** CSS colour of buttons and links, #rrggbb; empty = the built-in one. */
    accentColor: string;
    /** A line of text shown on the sign-in page (maintenance windows, support contact); empty = none. */
    notice: string;
  };
}

/** The content a version pins; its canonical JSON is what the digest covers. */
export interface RuntimeContent {
  clients: ClientRecord[];
  serviceProviders: ServiceProviderRecord[];
  keys: KeyRecord[];
  settings: RuntimeSettings;
}

export interface RuntimeConfig extends RuntimeContent {
  /** 0 = not a published version: the node's live tables (configSource store, or nothing published yet). */
  version: number;
  publishedAt: number;
  publishedBy: string;
  /** SHA-256 hex of the canonical content; '' for version 0. */
  digest: string;
}

/** Settings document names in the durable store's `settings` table. */
export const SETTINGS = {
  /** The staged RuntimeSettings. */
  runtime: 'runtime',
  /** Who changed staged configuration last, and when (its updatedAt / updatedBy). */
  staged: 'config.staged',
  /** Per node: the version it acknowledged and when (the console's "last replicated"). */
  replication: 'config.replication',
} as const;
