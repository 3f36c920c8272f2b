import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalHosts, DEFAULT_CLUSTER_CONFIG, formatHostPort, parseHostPort, resolveClusterConfig, validateClusterConfig,
  type ClusterConfig,
} from './config.js';
import { generateClusterSecret } from './secret.js';

const secret = Buffer.alloc(32, 3).toString('base64url');

function configWith(overrides: Partial<ClusterConfig>): ClusterConfig {
  return { ...DEFAULT_CLUSTER_CONFIG, secret, ...overrides };
}

describe('cluster config', () => {
  it('has the documented defaults', () => {
    assert.deepEqual({ ...DEFAULT_CLUSTER_CONFIG }, {
      name: 'cohort', index: 0, role: 'engine', bindHost: '127.0.0.1', port: 7901, advertiseHost: '', initialHosts: [],
      secret: '', heartbeatIntervalMs: 500, failureTimeoutMs: 2000, rpcTimeoutMs: 2000, majorityOnly: false,
      failoverPeers: 1, maxFrameBytes: 16 * 1024 * 1024,
    });
    assert.ok(Object.isFrozen(DEFAULT_CLUSTER_CONFIG));
    validateClusterConfig(configWith({}));
  });

  it('resolves overrides over defaults, ignoring undefined, and copies initialHosts', () => {
    const hosts = ['10.0.0.1:7901'];
    const config = resolveClusterConfig({ secret, index: 3, port: undefined, initialHosts: hosts });
    assert.equal(config.index, 3);
    assert.equal(config.port, 7901);
    hosts.push('10.0.0.2:7901');
    assert.deepEqual(config.initialHosts, ['10.0.0.1:7901']);
  });

  it('names the offending field', () => {
    const cases: Array<[Partial<ClusterConfig>, RegExp]> = [
      [{ name: '' }, /name /],
      [{ name: 'has space' }, /name /],
      [{ index: 65536 }, /index must be an integer from 0 to 65535/],
      [{ index: 1.5 }, /index /],
      [{ role: 'standalone' as never }, /role /],
      [{ bindHost: '' }, /bindHost /],
      [{ port: 70000 }, /port /],
      [{ bindHost: '0.0.0.0' }, /advertiseHost must be set/],
      [{ initialHosts: ['nohost'] }, /initialHosts\[0\] 'nohost' is not host:port/],
      [{ initialHosts: ['a:1', 'b:0'] }, /initialHosts\[1\]/],
      [{ secret: '' }, /secret is required/],
      [{ secret: 'not base64url!' }, /secret must be base64url/],
      [{ secret: Buffer.alloc(31).toString('base64url') }, /secret must decode to at least 32 bytes, got 31/],
      [{ heartbeatIntervalMs: 5 }, /heartbeatIntervalMs /],
      [{ failureTimeoutMs: 3001 }, /failureTimeoutMs must be an integer from 1000 to 3000/],
      [{ heartbeatIntervalMs: 1000, failureTimeoutMs: 1500 }, /failureTimeoutMs /],
      [{ rpcTimeoutMs: 0 }, /rpcTimeoutMs /],
      [{ majorityOnly: 'yes' as never }, /majorityOnly /],
      [{ failoverPeers: -1 }, /failoverPeers /],
      [{ maxFrameBytes: 100 }, /maxFrameBytes /],
    ];
    for (const [overrides, message] of cases) {
      assert.throws(() => validateClusterConfig(configWith(overrides)), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'CLUSTER_CONFIG');
        assert.match((e as Error).message, message);
        return true;
      }, JSON.stringify(overrides));
    }
  });

  it('accepts a wildcard bind with an advertised host, and a generated secret', () => {
    validateClusterConfig(configWith({ bindHost: '0.0.0.0', advertiseHost: '10.0.0.5', secret: generateClusterSecret() }));
  });

  it('parses and formats host:port, IPv6 included', () => {
    assert.deepEqual(parseHostPort('node-1.example:7901'), { host: 'node-1.example', port: 7901 });
    assert.deepEqual(parseHostPort('[::1]:7901'), { host: '::1', port: 7901 });
    assert.equal(formatHostPort('::1', 7901), '[::1]:7901');
    assert.equal(formatHostPort('10.0.0.1', 1), '10.0.0.1:1');
    assert.throws(() => parseHostPort('::1:7901'), { code: 'CLUSTER_CONFIG' });
    assert.deepEqual(canonicalHosts([' 10.0.0.1:7901', '10.0.0.1:7901', '[::1]:2']), ['10.0.0.1:7901', '[::1]:2']);
  });
});
