import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactSecrets } from './redact.js';
import { SCHEMA, buildDefaults, type Knob } from './schema.js';

describe('redactSecrets', () => {
  const config = buildDefaults();
  const markSecret = (...paths: string[]): Knob[] => SCHEMA.map((k) => (paths.includes(k.path) ? { ...k, secret: true } : k));

  it('hides set secret values and keeps empty ones visible as unset', () => {
    const out = redactSecrets(config, markSecret('node.name', 'http.issuer')) as unknown as typeof config;
    assert.equal(out.node.name, REDACTED);
    assert.equal(out.http.issuer, '', 'an empty secret shows as unset');
    assert.equal(out.http.port, 9000);
    assert.equal(config.node.name.length > 0 && config.node.name !== REDACTED, true, 'the input is not modified');
  });

  it('changes nothing when no knob is secret', () => {
    assert.deepEqual(redactSecrets(config), JSON.parse(JSON.stringify(config)));
  });
});
