// Back-channel calls to a token endpoint over node:http with one keep-alive agent per target: cheaper for the load
// generator than fetch, which matters when generator and server share two cores.
import { Agent, request } from 'node:http';

export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  error?: string;
  error_description?: string;
}

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

export class TokenEndpoint {
  private readonly agent: Agent;
  private readonly authorization: string;

  constructor(readonly url: string, clientId: string, clientSecret: string, maxSockets: number) {
    const target = new URL(url);
    if (target.hostname !== '127.0.0.1') throw new Error(`benchmarks only talk to 127.0.0.1, not ${target.hostname}`);
    this.agent = new Agent({ keepAlive: true, maxSockets });
    // RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
    const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
    this.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }

  /** Posts a grant; resolves with the parsed body only on 200 with an access token, throws otherwise. */
  grant(params: Record<string, string>): Promise<TokenResponse> {
    const body = new URLSearchParams(params).toString();
    return new Promise((resolve, reject) => {
      const req = request(this.url, {
        method: 'POST', agent: this.agent, timeout: TIMEOUT_MS,
        headers: {
          authorization: this.authorization, accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('token response too large'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          let parsed: TokenResponse;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as TokenResponse;
          } catch {
            reject(new Error(`${params.grant_type}: HTTP ${res.statusCode}, body is not JSON`));
            return;
          }
          if (res.statusCode !== 200 || !parsed.access_token) {
            reject(new Error(`${params.grant_type}: HTTP ${res.statusCode} ${parsed.error ?? ''} ${parsed.error_description ?? ''}`.trim()));
            return;
          }
          resolve(parsed);
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${params.grant_type}: no answer within ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
