// Test helper: asserts that a call is refused with a SamlError of the given HTTP status and code.
import assert from 'node:assert/strict';
import { SamlError } from './errors.js';

export function assertSamlError(fn: () => unknown, status: number, code?: string): SamlError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  return checkSamlError(caught, status, code);
}

export async function assertSamlRejects(fn: () => Promise<unknown>, status: number, code?: string): Promise<SamlError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  return checkSamlError(caught, status, code);
}

function checkSamlError(caught: unknown, status: number, code: string | undefined): SamlError {
  assert.ok(caught instanceof SamlError, `expected a SamlError, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.status, status, `status for ${caught.code}: ${caught.message}`);
  if (code !== undefined) assert.equal(caught.code, code, caught.message);
  return caught;
}
