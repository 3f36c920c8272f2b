// Structured JSON logs (one object per line) on stdout, through pino. Secrets are redacted by key name before a
// line is written, so a component that logs a request, a header bag or an error carrying either cannot leak a
// password, token or cookie (DESIGN.md: secrets never logged).
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from '../config/types.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level: LogLevel;
  /** Node name (config node.name), on every line as `node`. */
  name: string;
  /** Node index (config node.index), on every line as `nodeIndex`. */
  index: number;
  /** Where lines go; stdout when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export const REDACTED = '[redacted]';

/** Keys whose value is a secret wherever they appear: credentials, tokens, cookies, key material. */
export const SECRET_KEYS: readonly string[] = [
  'password', 'newPassword', 'currentPassword', 'oldPassword', 'passwordHash', 'generatedPassword',
  'secret', 'client_secret', 'clientSecret', 'clusterSecret', 'client_assertion',
  'token', 'access_token', 'accessToken', 'refresh_token', 'refreshToken', 'id_token', 'idToken', 'id_token_hint',
  'logout_token', 'code_verifier', 'assertion', 'SAMLResponse', 'SAMLart', 'csrf', 'csrfToken',
  'authorization', 'Authorization', 'proxy-authorization', 'Proxy-Authorization',
  'cookie', 'Cookie', 'set-cookie', 'Set-Cookie', 'cookies', 'privateKey', 'material',
];

/**
 * Keys that are secrets only inside request parameters. `code` is an authorization code in a query or form but an
 * error code everywhere else (`{ code: 'CONFIG_INVALID' }`), which logs must keep.
 */
export const REQUEST_SECRET_KEYS: readonly string[] = ['code', 'device_code', 'user_code'];
const REQUEST_CONTAINERS = ['query', 'body', 'params', 'form'];

/**
 * Wildcard depth: a key is redacted at the top level and up to this many objects down (req.headers.cookie = 2,
 * err.config.headers.authorization = 3). pino runs every leading-wildcard path on each top-level value, which costs
 * ~0.1 ms per logged object on a 2024 laptop core: fine for event logs (sign-ins, errors, lifecycle); a per-request
 * access log at high rates would want fewer keys or shallower depth.
 */
const DEPTH = 3;

function accessor(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/** pino redact paths for SECRET_KEYS at every depth and REQUEST_SECRET_KEYS under query/body/params/form. */
export function redactPaths(): string[] {
  const paths: string[] = [];
  const prefixes = Array.from({ length: DEPTH + 1 }, (_, depth) => Array(depth).fill('*').join('.'));
  for (const key of SECRET_KEYS) {
    for (const prefix of prefixes) paths.push(prefix ? `${prefix}${accessor(key)}` : accessor(key).replace(/^\./, ''));
  }
  for (const key of REQUEST_SECRET_KEYS) {
    for (const container of REQUEST_CONTAINERS) {
      for (const prefix of prefixes.slice(0, DEPTH)) {
        paths.push(`${prefix ? `${prefix}.` : ''}${container}${accessor(key)}`);
      }
    }
  }
  return paths;
}

export function createLogger(options: LoggerOptions): Logger {
  const config = {
    level: options.level,
    base: { node: options.name, nodeIndex: options.index, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names ("info") instead of numbers: readable in `docker logs` and matched by every log shipper.
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactPaths(), censor: REDACTED },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
