import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderMarkdown, renderText } from './docs.js';
import { SCHEMA, knobAt, type Knob, type StringKnob } from './schema.js';

// dist/src/config/docs.test.js -> repository root.
const DOCS = new URL('../../../docs/configuration.md', import.meta.url);

describe('configuration docs', () => {
  it('docs/configuration.md is what the generator produces', () => {
    let onDisk = '';
    try {
      onDisk = readFileSync(DOCS, 'utf8');
    } catch {
      // Missing file: fall through to the comparison, which then fails with the fix.
    }
    assert.ok(onDisk === renderMarkdown(),
      'docs/configuration.md does not match src/config/schema.ts: run `npm run docs` and commit the result');
  });

  it('lists every knob with its env var, type and default', () => {
    const md = renderMarkdown();
    const text = renderText();
    for (const k of SCHEMA) {
      assert.ok(md.includes(`| \`${k.path}\` | \`${k.env}\` |`), `markdown row for ${k.path}`);
      assert.ok(text.includes(`  ${k.path}  (${k.env})`), `text entry for ${k.path}`);
    }
    assert.ok(md.includes('| `http.port` | `COHORT_HTTP_PORT` | integer, 0-65535 | `9000` |'));
    assert.ok(md.includes('| `node.name` | `COHORT_NODE_NAME` | string | *this machine\'s host name* |'),
      'machine-dependent defaults are described, so the docs are the same on every host');
  });

  it('marks secret knobs, hides their defaults, escapes pipes and renders sections it has no title for', () => {
    const fake: Knob[] = [
      { ...(knobAt('http.host') as StringKnob), path: 'cluster.secret' as Knob['path'], env: 'COHORT_CLUSTER_SECRET', secret: true,
        default: 'do-not-print', doc: 'Shared secret | of the back channel.' },
    ];
    const md = renderMarkdown(fake);
    assert.ok(md.includes('## cluster'));
    assert.ok(md.includes('Shared secret \\| of the back channel. Secret: redacted by `config show`.'));
    assert.ok(!md.includes('do-not-print'));
    const text = renderText(fake);
    assert.ok(text.includes('default (none); secret') && !text.includes('do-not-print'));
  });
});
