// Field checks for admin API bodies: each failure is a 400 that names the field.
import { HttpError } from '../http/errors.js';

const bad = (field: string, rule: string) => new HttpError(400, 'ADMIN_INVALID', `${field}: ${rule}`);

export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw bad(key, 'is not a field of this request');
}

export function optString(body: Record<string, unknown>, field: string, max = 2048): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw bad(field, `must be a string of at most ${max} characters`);
  return v;
}

export function optBool(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v;
}

export function optStrings(body: Record<string, unknown>, field: string, maxItems = 100): string[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > maxItems || !v.every((s) => typeof s === 'string' && s.length <= 2048)) {
    throw bad(field, `must be a list of at most ${maxItems} strings`);
  }
  return v as string[];
}

export function reqBool(body: Record<string, unknown>, field: string): boolean {
  const v = optBool(body, field);
  if (v === undefined) throw bad(field, 'is required (true or false)');
  return v;
}
