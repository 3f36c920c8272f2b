// A minimal browser for end-to-end tests: node:http requests (so no `Sec-Fetch-Mode: cors` as fetch would send),
// a cookie jar keyed by host name only — like a real browser, cookies are shared across the ports of one host, which
// is how several nodes on 127.0.0.1 look like one server behind a balancer — and redirects followed by hand.
import { request } from 'node:http';

interface Cookie { name: string; value: string; path: string; expires?: number }

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  url: string;
  location?: string;
}

export class Browser {
  private readonly jar = new Map<string, Map<string, Cookie>>();

  cookies(host = '127.0.0.1'): Cookie[] {
    return [...(this.jar.get(host)?.values() ?? [])];
  }

  setCookie(name: string, value: string, host = '127.0.0.1', path = '/'): void {
    if (!this.jar.has(host)) this.jar.set(host, new Map());
    this.jar.get(host)!.set(`${name};${path}`, { name, value, path });
  }

  private cookieHeader(url: URL): string | undefined {
    const now = Date.now();
    const list = this.cookies(url.hostname).filter((c) => (c.expires === undefined || c.expires > now)
      && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
    return list.length ? list.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  private store(url: URL, header: string[] | undefined): void {
    for (const line of header ?? []) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const cookie: Cookie = { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), path: '/' };
      for (const attr of attrs) {
        const [k, v] = attr.split('=');
        const key = k!.toLowerCase();
        if (key === 'path' && v) cookie.path = v;
        if (key === 'expires' && v) cookie.expires = Date.parse(v);
        if (key === 'max-age' && v !== undefined) cookie.expires = Date.now() + Number(v) * 1000;
      }
      if (!this.jar.has(url.hostname)) this.jar.set(url.hostname, new Map());
      const key = `${cookie.name};${cookie.path}`;
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.jar.get(url.hostname)!.delete(key);
      else this.jar.get(url.hostname)!.set(key, cookie);
    }
  }

  send(method: string, target: string, options: { form?: Record<string, string>; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(target);
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'cohort-test-browser', ...options.headers };
    let body: string | Buffer | undefined = options.body;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          this.store(url, res.headers['set-cookie']);
          const location = res.headers.location ? new URL(res.headers.location, url).href : undefined;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), url: url.href, ...(location ? { location } : {}) });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${target} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  get(url: string): Promise<Response> { return this.send('GET', url); }
  post(url: string, form: Record<string, string>): Promise<Response> { return this.send('POST', url, { form }); }

  /**
   * Follows redirects (GET) until a non-redirect answer or a URL `stopAt` accepts (a relying party's callback,
   * which the test hands to the RP library instead of loading).
   */
  async follow(start: Response | string, stopAt: (url: string) => boolean = () => false, max = 15, via?: string): Promise<Response> {
    // `via`: send every request to this base URL (one node of a cluster), as a balancer would.
    const rebase = (url: string) => (via ? new URL(new URL(url).pathname + new URL(url).search, via).href : url);
    let res = typeof start === 'string' ? await this.get(rebase(start)) : start;
    for (let i = 0; i < max; i++) {
      if (res.status < 300 || res.status >= 400 || !res.location) return res;
      if (stopAt(res.location)) return res;
      res = await this.get(rebase(res.location));
    }
    throw new Error(`too many redirects from ${typeof start === 'string' ? start : start.url}`);
  }
}

/**
 * A round-robin balancer in front of `nodes`: every request this browser sends to `issuer` goes to the next node.
 * Returns a function that removes it.
 */
export function roundRobin(browser: Browser, issuer: string, nodes: () => string[]): () => void {
  const original = browser.send.bind(browser);
  let next = 0;
  const issuerOrigin = new URL(issuer).origin;
  const nodeOrigins = () => new Set(nodes().map((n) => new URL(n).origin));
  browser.send = (method, target, options) => {
    const url = new URL(target);
    if (url.origin !== issuerOrigin && !nodeOrigins().has(url.origin)) return original(method, target, options);
    const list = nodes();
    return original(method, new URL(url.pathname + url.search, list[next++ % list.length]).href, options);
  };
  return () => { browser.send = original; };
}

/** Value of a hidden input in a page, e.g. the CSRF token. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html)
    ?? new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no field ${name} in page:\n${html.slice(0, 2000)}`);
  return match[1]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

export function formAction(html: string, pathPart: string): string {
  const match = new RegExp(`<form[^>]*action="([^"]*${pathPart}[^"]*)"`).exec(html);
  if (!match) throw new Error(`no form posting to *${pathPart}* in page:\n${html.slice(0, 2000)}`);
  return match[1]!.replace(/&amp;/g, '&');
}
