// A printable copy of a configuration with every knob marked `secret` hidden, for `cohort config show` and logs.
import { SCHEMA, getPath, setPath, type Knob } from './schema.js';
import type { CohortConfig } from './types.js';

export const REDACTED = '[redacted]';

/**
 * Deep copy of `config` with secret values replaced by REDACTED. An empty secret stays empty so an operator can
 * still tell "not set" from "set". `schema` is a parameter so tests can mark any knob secret.
 */
export function redactSecrets(config: CohortConfig, schema: readonly Knob[] = SCHEMA): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const knob of schema) {
    if (!knob.secret) continue;
    const value = getPath(copy, knob.path);
    if (value !== undefined && value !== '') setPath(copy, knob.path, REDACTED);
  }
  return copy;
}
