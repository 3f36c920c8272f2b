// Prometheus metrics of one node. Each Metrics owns its registry (not prom-client's global one) so several nodes
// in one test process, or a re-created node, never clash on metric names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type SignInResult = 'ok' | 'failed' | 'locked' | 'unavailable';

/** Grant types counted by name; anything else is counted as 'other' so a client cannot grow the label set. */
export const KNOWN_GRANTS: readonly string[] = [
  'authorization_code', 'refresh_token', 'client_credentials', 'implicit',
  'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba',
  'urn:ietf:params:oauth:grant-type:token-exchange', 'urn:ietf:params:oauth:grant-type:jwt-bearer',
];
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Request duration buckets, in seconds: from static pages (~1 ms) through scrypt-bound sign-ins (~60 ms) and
 * cross-node reads (tens of ms) to the 10 s where a request is certainly stuck.
 */
export const HTTP_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  /** prom-client's process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

export class Metrics {
  /** This node's registry; other layers may register their own metrics on it. */
  readonly registry = new Registry();
  private readonly signins: Counter<'result'>;
  private readonly tokens: Counter<'grant'>;
  private readonly requests: Histogram<'route' | 'method' | 'status'>;
  private liveSessions: (() => number | Promise<number>) | undefined;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.signins = new Counter({
      name: 'cohort_signins_total', help: 'Sign-in attempts by result (ok, failed, locked, unavailable).',
      labelNames: ['result'], registers,
    });
    this.tokens = new Counter({
      name: 'cohort_tokens_issued_total', help: 'Tokens issued, by OAuth grant type.',
      labelNames: ['grant'], registers,
    });
    this.requests = new Histogram({
      name: 'cohort_http_request_duration_seconds', help: 'HTTP request duration in seconds, by route, method and status.',
      labelNames: ['route', 'method', 'status'], buckets: [...HTTP_BUCKETS], registers,
    });
    const self = this;
    new Gauge({
      name: 'cohort_live_sessions', help: 'SSO sessions currently held (NaN when the count failed).', registers,
      // Asked at scrape time so the value is never stale; a failing count reads NaN instead of failing the scrape.
      async collect() {
        if (!self.liveSessions) return;
        try {
          this.set(await self.liveSessions());
        } catch {
          this.set(Number.NaN);
        }
      },
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Supplies the live session count, read at each scrape. Until called, cohort_live_sessions reports 0. */
  setLiveSessions(count: () => number | Promise<number>): void {
    this.liveSessions = count;
  }

  signIn(result: SignInResult): void {
    this.signins.inc({ result });
  }

  tokenIssued(grant: string): void {
    this.tokens.inc({ grant: KNOWN_GRANTS.includes(grant) ? grant : 'other' });
  }

  /**
   * Records one finished request. `route` must be a route name (e.g. 'token'), never the raw URL: URLs carry codes
   * and unbounded values. Unknown methods are folded into 'OTHER' for the same reason.
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const m = method.toUpperCase();
    this.requests.observe({ route, method: KNOWN_METHODS.has(m) ? m : 'OTHER', status: String(status) }, seconds);
  }

  /** The Prometheus text exposition, for GET /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
