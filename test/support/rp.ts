// A relying party for tests: openid-client configured against a Cohort issuer, plus an HTTP endpoint that records
// back-channel logout tokens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';

export async function discover(issuer: string, clientId: string, clientSecret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, clientSecret, clientSecret ? undefined : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
    timeout: 10,
  });
}

/**
 * An openid-client configuration whose endpoints are on `nodeUrl` (as if a balancer sent the RP there), with the
 * cluster's `issuer`, so tokens and ID tokens validate exactly as behind a real balancer.
 */
export async function rpVia(nodeUrl: string, issuer: string, clientId: string, clientSecret?: string): Promise<oidc.Configuration> {
  const metadata = await (await fetch(`${nodeUrl}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value === 'string' && key !== 'issuer' && value.startsWith(issuer)) metadata[key] = nodeUrl + value.slice(issuer.length);
  }
  const config = new oidc.Configuration(metadata as oidc.ServerMetadata, clientId, clientSecret, clientSecret ? undefined : oidc.None());
  oidc.allowInsecureRequests(config);
  return config;
}

export interface LogoutReceiver {
  url: string;
  tokens: string[];
  close(): Promise<void>;
}

export async function logoutReceiver(): Promise<LogoutReceiver> {
  const tokens: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (token) tokens.push(token);
      res.statusCode = token ? 200 : 400;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    tokens,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Decodes a JWT's payload without verifying it (verification is done separately against the JWKS). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
