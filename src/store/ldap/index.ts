// The LDAP user store, configured from ldap.* (users.backend = ldap).
import type { CohortConfig } from '../../config/types.js';
import type { LdapUserStoreOptions } from './ldap-user-store.js';

export { LdapUserStore, type LdapUserStoreOptions } from './ldap-user-store.js';
export { escapeFilterValue } from './ldap-filter.js';

export function ldapUserStoreOptionsOf(config: Pick<CohortConfig, 'ldap'>): LdapUserStoreOptions {
  const { ldap } = config;
  return {
    url: ldap.url, bindDn: ldap.bindDn, bindPassword: ldap.bindPassword, searchBase: ldap.searchBase,
    userFilter: ldap.userFilter, idAttribute: ldap.idAttribute, usernameAttribute: ldap.usernameAttribute,
    emailAttribute: ldap.emailAttribute, displayNameAttribute: ldap.displayNameAttribute, groupBase: ldap.groupBase,
    groupFilter: ldap.groupFilter, adminGroup: ldap.adminGroup, maxConnections: ldap.maxConnections,
    timeoutMs: ldap.timeoutMs,
  };
}
