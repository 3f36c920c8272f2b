// For unit tests of the cookie store: a browser that runs each call inside its own HTTP exchange (a fresh request
// context carrying the jar's cookies) and keeps what the response set, as a real browser between two requests.
// The jar ignores Max-Age on purpose: the store must refuse expired records by itself, whatever a browser sends.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { runInRequestContext } from '../../http/request-context.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** Set-Cookie lines of the response. */
  setCookies: string[];
}

export class FakeBrowser {
  readonly jar = new Map<string, string>();

  /** Runs `fn` as the server handling one request from this browser; returns its result and the exchange. */
  async exchange<T>(fn: () => Promise<T>, options: { secure?: boolean } = {}): Promise<{ result: T } & Exchange> {
    const req = new IncomingMessage(new Socket());
    if (this.jar.size > 0) req.headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = new ServerResponse(req);
    const result = await runInRequestContext({ req, res, source: '127.0.0.1', secure: options.secure ?? false }, fn);
    const header = res.getHeader('Set-Cookie');
    const setCookies = header === undefined ? [] : Array.isArray(header) ? header.map(String) : [String(header)];
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (attributes.some((a) => a.toLowerCase() === 'max-age=0')) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(eq + 1));
    }
    return { result, req, res, setCookies };
  }

  /** Shorthand when only the result matters. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    return (await this.exchange(fn)).result;
  }
}
