// What every console page handler gets: the signed-in administrator, the in-process API caller, the read-only
// reason, and the request. A page renders its body; a POST returns a notice (and optional extra markup) shown on
// the re-rendered page.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SafeHtml } from '../../auth/views/html.js';
import type { StatusBody } from '../../ops/status.js';
import type { ApiCaller } from './api-call.js';
import type { Notice } from './view.js';

export interface PageContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  username: string;
  csrf: string;
  api: ApiCaller;
  /** Why configuration writes are refused now, or undefined. */
  readOnly: string | undefined;
  /** This (the console) node's own status: components and their checks. */
  ownStatus(): Promise<StatusBody>;
}

export interface PostResult {
  notice: Notice;
  /** The HTTP status of the re-rendered page: the API's refusal status (400, 404, 409...) or 200. */
  status?: number;
  /** Shown under the notice, e.g. the per-node result of a publish. */
  extra?: SafeHtml;
}

export interface ConsolePage {
  /** The page's path, e.g. '/console/clients'. */
  path: string;
  title: string;
  render(ctx: PageContext): Promise<SafeHtml>;
  /** Form posts to the page's path; the form has already passed the CSRF check. */
  post?(ctx: PageContext, form: Map<string, string>): Promise<PostResult>;
}

/** A POST's notice from an API answer: the API's own message on refusal. */
export function resultOf(answer: { status: number; error?: { message: string } }, ok: string): PostResult {
  if (answer.error) return { notice: { kind: 'error', text: answer.error.message }, status: answer.status };
  return { notice: { kind: 'ok', text: ok } };
}
