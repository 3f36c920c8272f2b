import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { hostname } from 'node:os';
import { CONSTRAINTS, SCHEMA, SECTIONS, buildDefaults, defaultOf, envVarOf, knobAt, scryptMemoryBytes, sectionOf } from './schema.js';
import { checkValue, parseText } from './validate.js';

/** Dotted paths of every leaf of a nested plain object. */
function leaves(obj: object, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === 'object' && v !== null
    ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe('schema', () => {
  it('has exactly one entry per leaf of the built defaults', () => {
    const paths = SCHEMA.map((k) => k.path);
    assert.equal(new Set(paths).size, paths.length, 'duplicate paths');
    assert.deepEqual(leaves(buildDefaults()).sort(), [...paths].sort());
  });

  it('names every environment variable COHORT_ + the upper-snake-cased path, uniquely', () => {
    assert.equal(envVarOf('dataDir'), 'COHORT_DATA_DIR');
    assert.equal(envVarOf('state.local.maxSessions'), 'COHORT_STATE_LOCAL_MAX_SESSIONS');
    assert.equal(envVarOf('http.port'), 'COHORT_HTTP_PORT');
    for (const k of SCHEMA) assert.equal(k.env, envVarOf(k.path), k.path);
    assert.equal(new Set(SCHEMA.map((k) => k.env)).size, SCHEMA.length, 'duplicate env vars');
  });

  it('has defaults that pass their own validation, also when written as env text', () => {
    for (const k of SCHEMA) {
      const value = defaultOf(k);
      assert.deepEqual(checkValue(k, value), { ok: true, value }, k.path);
      assert.deepEqual(parseText(k, String(value)), { ok: true, value }, `${k.path} as text`);
    }
  });

  it('has the documented defaults', () => {
    const d = buildDefaults();
    assert.equal(d.node.name, hostname());
    const expected: Record<string, unknown> = {
      dataDir: './cohort-data', 'store.backend': 'sqlite', 'store.postgres.url': '', 'store.postgres.poolSize': 10,
      'store.postgres.connectTimeoutMs': 5000, 'store.postgres.statementTimeoutMs': 5000, 'store.migrateOnStart': true,
      'node.index': 0, 'node.role': 'standalone', 'node.configSource': 'store', 'http.host': '127.0.0.1',
      'http.port': 9000, 'http.issuer': '', 'http.trustProxy': false, 'http.maxBodyBytes': 65536, 'log.level': 'info',
      'auth.scrypt.cost': 32768, 'auth.scrypt.blockSize': 8, 'auth.scrypt.parallelization': 1,
      'auth.scrypt.keyLength': 32, 'auth.scrypt.maxMemoryMb': 64, 'auth.lockout.maxFailuresPerUser': 5,
      'auth.lockout.maxFailuresPerSource': 20, 'auth.lockout.windowSeconds': 900, 'auth.initialAdmin.username': 'admin',
      'session.ttlSeconds': 36000, 'oidc.allowPrivateNetworkRequests': false, 'oidc.ttl.accessTokenSeconds': 3600, 'oidc.ttl.authorizationCodeSeconds': 60,
      'oidc.ttl.idTokenSeconds': 3600, 'oidc.ttl.refreshTokenSeconds': 1209600, 'oidc.ttl.interactionSeconds': 600,
      'oidc.ttl.grantSeconds': 1209600, 'oidc.ttl.clientCredentialsSeconds': 600,
      'saml.enabled': true, 'saml.entityId': '', 'saml.artifactEndpoints': '', 'saml.artifactLifetimeSeconds': 30,
      'saml.assertionLifetimeSeconds': 300, 'saml.clockSkewSeconds': 90, 'saml.requestMaxAgeSeconds': 300,
      'saml.maxMessageBytes': 65536, 'saml.allowPrivateNetworkRequests': true,
      'state.local.maxSessions': 100000, 'state.local.maxInterRequests': 50000, 'state.local.maxTokens': 200000,
      'state.local.maxReplayIds': 100000, 'state.local.maxArtifacts': 10000, 'state.local.maxRegistryEntries': 100000,
      'state.local.maxRevocations': 50000, 'state.local.maxFailureKeys': 100000,
      'cluster.name': 'cohort', 'cluster.bindHost': '127.0.0.1', 'cluster.port': 7901, 'cluster.advertiseHost': '',
      'cluster.initialHosts': '', 'cluster.secret': '', 'cluster.heartbeatIntervalMs': 500,
      'cluster.failureTimeoutMs': 2000, 'cluster.rpcTimeoutMs': 2000, 'cluster.bulkTimeoutMs': 10000,
      'cluster.majorityOnly': false, 'cluster.failoverPeers': 1, 'cluster.maxFrameBytes': 16777216,
      'session.maxPerUser': 0, 'session.limitAction': 'refuse', 'session.allowLogoutAll': false, 'admin.apiToken': '',
      'state.redis.url': 'redis://127.0.0.1:6379', 'state.redis.password': '', 'state.redis.keyPrefix': 'cohort:', 'state.redis.sentinels': '',
      'state.redis.sentinelName': '', 'state.redis.cluster': false, 'state.redis.commandTimeoutMs': 1000,
      'users.backend': 'store', 'ldap.url': '', 'ldap.bindDn': '', 'ldap.bindPassword': '', 'ldap.searchBase': '',
      'ldap.userFilter': '(uid={username})', 'ldap.idAttribute': 'entryUUID', 'ldap.usernameAttribute': 'uid',
      'ldap.emailAttribute': 'mail', 'ldap.displayNameAttribute': 'cn', 'ldap.groupBase': '',
      'ldap.groupFilter': '(member={dn})', 'ldap.adminGroup': '', 'ldap.maxConnections': 10, 'ldap.timeoutMs': 3000,
      'state.revocationsReadLocalOnly': true, 'state.cookie.rotationSeconds': 3600, 'state.cookie.keysKept': 3, 'state.cookie.staticKey': '',
    };
    for (const s of ['sessions', 'interRequest', 'tokens', 'replay', 'artifacts', 'registry', 'revocations', 'loginFailures']) {
      expected[`state.backend.${s}`] = 'auto';
      expected[`state.preferredNodes.${s}`] = '';
    }
    for (const k of SCHEMA) {
      if (k.path === 'node.name') continue;
      assert.equal(defaultOf(k), expected[k.path], k.path);
    }
  });

  it('documents every knob in one line and every section', () => {
    for (const k of SCHEMA) {
      assert.ok(k.doc.length > 10 && !k.doc.includes('\n'), `${k.path}: doc must be one line`);
      assert.ok(SECTIONS[sectionOf(k.path)], `${k.path}: add its section to SECTIONS`);
      if (k.type === 'integer') assert.ok(k.min <= k.max, k.path);
    }
  });

  it('requires ldap.url and ldap.searchBase only when users come from LDAP, and checks the URL and filter', () => {
    const config = buildDefaults();
    const failing = () => CONSTRAINTS.filter((c) => c.check(config) !== undefined).map((c) => c.path);
    assert.deepEqual(failing(), []);
    config.users.backend = 'ldap';
    assert.deepEqual(failing(), ['ldap.url', 'ldap.searchBase']);
    config.ldap.url = 'ldap://127.0.0.1:389';
    config.ldap.searchBase = 'dc=example,dc=org';
    assert.deepEqual(failing(), []);
    const url = knobAt('ldap.url')!;
    for (const ok of ['ldap://127.0.0.1:389', 'ldaps://ldap.example.org:636', 'ldap://dc1/']) assert.equal(checkValue(url, ok).ok, true, ok);
    for (const bad of ['http://x', 'ldap://h/dc=x', 'not a url']) assert.equal(checkValue(url, bad).ok, false, bad);
    assert.equal(checkValue(knobAt('ldap.userFilter')!, '(uid=alice)').ok, false, 'a filter without {username}');
  });

  it('allows postgres for state.backend.sessions only, and only with the postgres store', () => {
    const knob = knobAt('state.backend.sessions')!;
    assert.deepEqual(knob.type === 'enum' ? knob.values : undefined, ['auto', 'local', 'peer', 'redis', 'postgres']);
    assert.equal(checkValue(knobAt('state.backend.sessions')!, 'postgres').ok, true);
    assert.equal(checkValue(knobAt('state.backend.tokens')!, 'postgres').ok, false);
    const config = buildDefaults();
    const failing = () => CONSTRAINTS.filter((c) => c.check(config) !== undefined).map((c) => c.path);
    config.state.backend.sessions = 'postgres';
    assert.deepEqual(failing(), ['state.backend.sessions']);
    config.store.backend = 'postgres';
    config.store.postgres.url = 'postgres://cohort@db.example.org/cohort';
    assert.deepEqual(failing(), []);
  });

  it('computes scrypt memory exactly as crypto.scrypt enforces maxmem', () => {
    const params = { cost: 1024, blockSize: 8, parallelization: 16, keyLength: 32, maxMemoryMb: 64 };
    const need = scryptMemoryBytes(params);
    const hash = (maxmem: number) => scryptSync('pw', 'salt', 32, { N: params.cost, r: params.blockSize, p: params.parallelization, maxmem });
    assert.equal(hash(need).length, 32);
    assert.throws(() => hash(need - 1), /memory limit exceeded/);
  });
});
