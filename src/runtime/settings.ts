// The runtime settings document: defaults from the static configuration (so a node with nothing published behaves
// exactly as before), and validation of an administrator's edit, field by field with the field named.
import type { CohortConfig } from '../config/types.js';
import type { RuntimeSettings } from './types.js';

export class SettingsError extends Error {
  constructor(readonly field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.name = 'SettingsError';
  }
}

export function defaultSettings(config: Pick<CohortConfig, 'session' | 'saml'>): RuntimeSettings {
  return {
    session: { maxPerUser: config.session.maxPerUser, limitAction: config.session.limitAction, allowLogoutAll: config.session.allowLogoutAll },
    protocols: { oidc: true, saml: config.saml.enabled },
    branding: { productName: 'Cohort', accentColor: '', notice: '' },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function section(input: Obj, name: string, known: string[]): Obj {
  const value = input[name];
  if (value === undefined) return {};
  if (!isObj(value)) throw new SettingsError(name, 'must be an object');
  for (const key of Object.keys(value)) if (!known.includes(key)) throw new SettingsError(`${name}.${key}`, 'is not a setting');
  return value;
}

function bool(obj: Obj, path: string, key: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new SettingsError(`${path}.${key}`, 'must be true or false');
  return v;
}

function text(obj: Obj, path: string, key: string, fallback: string, max: number, rule?: RegExp): string {
  const v = obj[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v.length > max || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new SettingsError(`${path}.${key}`, `must be text of at most ${max} characters without control characters`);
  }
  if (rule && v !== '' && !rule.test(v)) throw new SettingsError(`${path}.${key}`, `must match ${rule.source}`);
  return v;
}

/**
 * `input` laid over `base`: every field optional, unknown fields refused. Returns a complete document.
 * Throws SettingsError naming the first bad field.
 */
export function mergeSettings(base: RuntimeSettings, input: unknown): RuntimeSettings {
  if (!isObj(input)) throw new SettingsError('settings', 'must be a JSON object');
  for (const key of Object.keys(input)) {
    if (!['session', 'protocols', 'branding'].includes(key)) throw new SettingsError(key, 'is not a setting');
  }
  const s = section(input, 'session', ['maxPerUser', 'limitAction', 'allowLogoutAll']);
  const p = section(input, 'protocols', ['oidc', 'saml']);
  const b = section(input, 'branding', ['productName', 'accentColor', 'notice']);
  let maxPerUser = base.session.maxPerUser;
  if (s.maxPerUser !== undefined) {
    if (typeof s.maxPerUser !== 'number' || !Number.isInteger(s.maxPerUser) || s.maxPerUser < 0 || s.maxPerUser > 10_000) {
      throw new SettingsError('session.maxPerUser', 'must be an integer from 0 to 10000');
    }
    maxPerUser = s.maxPerUser;
  }
  let limitAction = base.session.limitAction;
  if (s.limitAction !== undefined) {
    if (s.limitAction !== 'refuse' && s.limitAction !== 'delete-oldest') {
      throw new SettingsError('session.limitAction', "must be 'refuse' or 'delete-oldest'");
    }
    limitAction = s.limitAction;
  }
  const productName = text(b, 'branding', 'productName', base.branding.productName, 64);
  if (productName.trim() === '') throw new SettingsError('branding.productName', 'must not be empty');
  return {
    session: { maxPerUser, limitAction, allowLogoutAll: bool(s, 'session', 'allowLogoutAll', base.session.allowLogoutAll) },
    protocols: { oidc: bool(p, 'protocols', 'oidc', base.protocols.oidc), saml: bool(p, 'protocols', 'saml', base.protocols.saml) },
    branding: {
      productName,
      accentColor: text(b, 'branding', 'accentColor', base.branding.accentColor, 7, /^#[0-9a-fA-F]{6}$/),
      notice: text(b, 'branding', 'notice', base.branding.notice, 500),
    },
  };
}
