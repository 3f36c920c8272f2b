// Human-readable documentation generated from the schema: Markdown for docs/configuration.md and plain text for
// `cohort config docs` / `cohort config --help`. Nothing here is written by hand per knob, so the docs cannot drift.
import { SCHEMA, SECTIONS, sectionOf, type Knob } from './schema.js';

/** Knobs grouped by section: the documented order of SECTIONS first, then any section only the schema knows. */
function bySection(schema: readonly Knob[]): Array<[string, Knob[]]> {
  const groups = new Map<string, Knob[]>(Object.keys(SECTIONS).map((s) => [s, []]));
  for (const knob of schema) {
    const section = sectionOf(knob.path);
    if (!groups.has(section)) groups.set(section, []);
    groups.get(section)!.push(knob);
  }
  return [...groups].filter(([, knobs]) => knobs.length > 0);
}

export function describeType(knob: Knob): string {
  switch (knob.type) {
    case 'integer':
      return `integer${knob.powerOfTwo ? ', power of two' : ''}, ${knob.min}-${knob.max}`;
    case 'enum':
      return `one of ${knob.values.join(', ')}`;
    case 'string':
      return knob.rule ? `string, ${knob.rule}` : 'string';
    case 'boolean':
      return 'boolean';
  }
}

function describeDefault(knob: Knob, markdown: boolean): string {
  const d = knob.default;
  if (typeof d === 'object') return markdown ? `*${d.describe}*` : `(${d.describe})`;
  if (knob.secret) return markdown ? '*(none)*' : '(none)';
  const text = d === '' ? '""' : String(d);
  return markdown ? `\`${text}\`` : text;
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderMarkdown(schema: readonly Knob[] = SCHEMA): string {
  const out = [
    '<!-- Generated from src/config/schema.ts by `npm run docs`. Edit the schema, not this file. -->',
    '# Configuration',
    '',
    'Every setting of a Cohort node. A node reads its configuration from, in increasing precedence:',
    '',
    '1. the defaults below;',
    '2. a JSON file: `--config FILE`, else `<dataDir>/cohort.json` when it exists;',
    '3. environment variables (column *Env var*);',
    '4. command-line flags.',
    '',
    'In the file, sections are nested objects: `{ "http": { "port": 9000 } }`. Unknown keys, wrong types and values',
    'out of range stop the node with one error listing every problem, each naming the key and where the value came',
    'from. In environment variables booleans are `true`/`false` (or `1`/`0`). Durations are whole seconds.',
    '`cohort config show` prints the effective configuration, with secrets redacted.',
  ];
  for (const [section, knobs] of bySection(schema)) {
    out.push('', `## ${section}`, '');
    if (SECTIONS[section]) out.push(SECTIONS[section]!, '');
    out.push('| Key | Env var | Type | Default | Description |', '|---|---|---|---|---|');
    for (const k of knobs) {
      const doc = k.secret ? `${k.doc} Secret: redacted by \`config show\`.` : k.doc;
      out.push(`| \`${k.path}\` | \`${k.env}\` | ${cell(describeType(k))} | ${cell(describeDefault(k, true))} | ${cell(doc)} |`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function renderText(schema: readonly Knob[] = SCHEMA): string {
  const out = [
    'Settings, lowest to highest precedence: defaults, JSON file (--config, else <dataDir>/cohort.json),',
    'environment variables, command-line flags. File keys nest by section: {"http": {"port": 9000}}.',
  ];
  for (const [section, knobs] of bySection(schema)) {
    out.push('', SECTIONS[section] ? `${section}: ${SECTIONS[section]}` : `${section}:`);
    for (const k of knobs) {
      out.push(`  ${k.path}  (${k.env})`);
      out.push(`      ${describeType(k)}; default ${describeDefault(k, false)}${k.secret ? '; secret' : ''}`);
      out.push(`      ${k.doc}`);
    }
  }
  return `${out.join('\n')}\n`;
}
