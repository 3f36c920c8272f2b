// Checking one knob's value: typed values (JSON file, programmatic overrides) with checkValue(), text (environment
// variables, CLI flags) with parseText(). Both return the reason a value is rejected, phrased to follow
// "<key> in <source>: ", and never echo a secret knob's value.
import type { IntegerKnob, Knob } from './schema.js';

export type Checked = { ok: true; value: string | number | boolean } | { ok: false; reason: string };

const MAX_ECHO = 80;

/** The offending value for a message: JSON-quoted, truncated, or hidden for secret knobs. */
export function shown(knob: Knob, value: unknown): string {
  if (knob.secret) return '[redacted]';
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}...` : text;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/** What the knob accepts, as the tail of "must be ...". Shared with the docs so they say the same thing. */
export function expectation(knob: Knob): string {
  switch (knob.type) {
    case 'integer':
      return `${knob.powerOfTwo ? 'a power of two' : 'an integer'} between ${knob.min} and ${knob.max}`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${knob.values.join(', ')}`;
    case 'string': {
      const min = knob.minLength ?? 0;
      const len = min > 0 ? `a non-empty string of at most ${knob.maxLength} characters`
        : `a string of at most ${knob.maxLength} characters`;
      return knob.rule ? `${len}, ${knob.rule}` : len;
    }
  }
}

function reject(knob: Knob, value: unknown): Checked {
  return { ok: false, reason: `must be ${expectation(knob)}, got ${shown(knob, value)}` };
}

function checkInteger(knob: IntegerKnob, value: number): Checked {
  if (!Number.isSafeInteger(value) || value < knob.min || value > knob.max) return reject(knob, value);
  if (knob.powerOfTwo && !isPowerOfTwo(value)) return reject(knob, value);
  return { ok: true, value };
}

/** Validates an already-typed value (from JSON or a programmatic override). No coercion: "9000" is not 9000. */
export function checkValue(knob: Knob, value: unknown): Checked {
  switch (knob.type) {
    case 'integer':
      return typeof value === 'number' ? checkInteger(knob, value) : reject(knob, value);
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : reject(knob, value);
    case 'enum':
      return typeof value === 'string' && knob.values.includes(value) ? { ok: true, value } : reject(knob, value);
    case 'string': {
      if (typeof value !== 'string' || value.length < (knob.minLength ?? 0) || value.length > knob.maxLength) {
        return reject(knob, value);
      }
      const why = knob.check?.(value);
      return why ? { ok: false, reason: `${why}, got ${shown(knob, value)}` } : { ok: true, value };
    }
  }
}

const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);

/** Parses text from an environment variable or a CLI flag, then validates it like checkValue(). */
export function parseText(knob: Knob, text: string): Checked {
  switch (knob.type) {
    case 'integer': {
      const t = text.trim();
      // Digits only: Number() would also accept '', '0x10', '1e3' and ' ', which are typos more often than intent.
      return /^[+-]?\d+$/.test(t) ? checkInteger(knob, Number(t)) : reject(knob, text);
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return { ok: true, value: true };
      if (FALSE.has(t)) return { ok: true, value: false };
      return { ok: false, reason: `must be true or false (or 1 or 0), got ${shown(knob, text)}` };
    }
    case 'enum':
      return checkValue(knob, text.trim());
    case 'string':
      // Kept verbatim: surrounding spaces in a path or name are the operator's to decide.
      return checkValue(knob, text);
  }
}
