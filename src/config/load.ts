// Loads the configuration: defaults < file (JSON) < environment < overrides (CLI flags), each value validated
// against the schema. Every problem from every source is collected and thrown as one ConfigError; the result is
// deep-frozen so no component can change configuration behind the others' backs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from './errors.js';
import { CONSTRAINTS, SCHEMA, defaultOf, knobAt, setPath, type Knob } from './schema.js';
import type { CohortConfig } from './types.js';
import { checkValue, parseText, type Checked } from './validate.js';

export interface LoadOptions {
  /** JSON file; when absent, <dataDir>/cohort.json is read if it exists. A given file must exist. */
  file?: string;
  /** Environment variables (COHORT_*); defaults to process.env. Tests pass their own (often {}). */
  env?: NodeJS.ProcessEnv;
  /** Dotted paths from CLI flags, e.g. { 'http.port': '0' }; strings are parsed like env values. */
  overrides?: Record<string, unknown>;
}

export const DEFAULT_FILE_NAME = 'cohort.json';
export const OVERRIDES_SOURCE = 'command line';

type Value = string | number | boolean;
/** One source's accepted values, by dotted path, with the source's name for later messages. */
type Layer = Map<string, { value: Value; source: string }>;

function accept(layer: Layer, problems: ConfigProblem[], knob: Knob, source: string, result: Checked): void {
  if (result.ok) layer.set(knob.path, { value: result.value, source });
  else problems.push({ path: knob.path, source, reason: result.reason });
}

function fromOverrides(overrides: Record<string, unknown>, problems: ConfigProblem[]): Layer {
  const layer: Layer = new Map();
  for (const [path, value] of Object.entries(overrides)) {
    if (value === undefined) continue; // an unset optional flag
    const knob = knobAt(path);
    if (!knob) {
      problems.push({ path, source: OVERRIDES_SOURCE, reason: unknownKey(path) });
      continue;
    }
    accept(layer, problems, knob, OVERRIDES_SOURCE,
      typeof value === 'string' ? parseText(knob, value) : checkValue(knob, value));
  }
  return layer;
}

function fromEnv(env: NodeJS.ProcessEnv, problems: ConfigProblem[]): Layer {
  const layer: Layer = new Map();
  for (const knob of SCHEMA) {
    const text = env[knob.env];
    if (text !== undefined) accept(layer, problems, knob, knob.env, parseText(knob, text));
  }
  return layer;
}

/** Paths that are sections (objects) rather than leaves: 'http', 'auth', 'auth.scrypt', ... */
const SECTION_PATHS = new Set(SCHEMA.flatMap((k) => k.path.split('.').slice(0, -1)
  .map((_, i, parts) => parts.slice(0, i + 1).join('.'))));

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walkFile(node: Record<string, unknown>, prefix: string, file: string, layer: Layer, problems: ConfigProblem[]) {
  for (const [key, value] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const knob = knobAt(path);
    if (knob) accept(layer, problems, knob, file, checkValue(knob, value));
    else if (!SECTION_PATHS.has(path)) problems.push({ path, source: file, reason: unknownKey(path) });
    else if (isPlainObject(value)) walkFile(value, path, file, layer, problems);
    else problems.push({ path, source: file, reason: `must be an object (a section of settings), got ${JSON.stringify(value)}` });
  }
}

function fromFile(file: string, problems: ConfigProblem[]): { layer: Layer; cause?: unknown } {
  const layer: Layer = new Map();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    problems.push({ source: file, reason: `cannot read the configuration file (${why})` });
    return { layer, cause: err };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    problems.push({ source: file, reason: `not valid JSON (${(err as Error).message})` });
    return { layer, cause: err };
  }
  if (!isPlainObject(data)) problems.push({ source: file, reason: 'must contain a JSON object' });
  else walkFile(data, '', file, layer, problems);
  return { layer };
}

/** "unknown key", with the nearest real key when one is close (a typo or wrong case). */
function unknownKey(path: string): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const knob of SCHEMA) {
    const d = editDistance(path.toLowerCase(), knob.path.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [knob.path, d];
  }
  return best && bestDistance <= 3 ? `unknown key (did you mean ${best}?)` : 'unknown key';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export function loadConfig(options: LoadOptions = {}): CohortConfig {
  // Problems are kept per source and reported in precedence order: file, environment, command line.
  const overrideProblems: ConfigProblem[] = [];
  const envProblems: ConfigProblem[] = [];
  const fileProblems: ConfigProblem[] = [];
  const overrides = fromOverrides(options.overrides ?? {}, overrideProblems);
  const env = fromEnv(options.env ?? process.env, envProblems);

  // The default file lives in the data directory, so dataDir is resolved from the sources above the file first.
  const dataDir = (overrides.get('dataDir') ?? env.get('dataDir'))?.value as string | undefined
    ?? defaultOf(knobAt('dataDir')!) as string;
  const defaultFile = join(dataDir, DEFAULT_FILE_NAME);
  const file = options.file ?? (existsSync(defaultFile) ? defaultFile : undefined);
  const { layer: fileLayer, cause } = file ? fromFile(file, fileProblems) : { layer: new Map() as Layer, cause: undefined };
  const problems = [...fileProblems, ...envProblems, ...overrideProblems];

  const out: Record<string, unknown> = {};
  const sourceOf = new Map<string, string>();
  for (const knob of SCHEMA) {
    const chosen = overrides.get(knob.path) ?? env.get(knob.path) ?? fileLayer.get(knob.path);
    setPath(out, knob.path, chosen ? chosen.value : defaultOf(knob));
    sourceOf.set(knob.path, chosen?.source ?? 'defaults');
  }
  const config = out as unknown as CohortConfig;

  // Rules across knobs only make sense once every single value is valid.
  if (problems.length === 0) {
    for (const rule of CONSTRAINTS) {
      const reason = rule.check(config);
      if (reason) problems.push({ path: rule.path, source: sourceOf.get(rule.path)!, reason });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, cause === undefined ? undefined : { cause });
  return deepFreeze(config);
}

/** The public base URL: http.issuer, else http://host:port (pass the bound port when http.port is 0). */
export function issuerOf(config: CohortConfig, port: number = config.http.port): string {
  if (config.http.issuer) return config.http.issuer;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return `http://${host}:${port}`;
}

