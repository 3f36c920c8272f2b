// Operations endpoints: /status/v2 (full status for monitoring), /status/v2/lbstatus (load-balancer health check),
// /metrics (Prometheus). They reveal no secrets and take no input.
import type { Route } from '../http/router.js';
import { sendJson, sendText } from '../http/respond.js';
import type { Metrics } from './metrics.js';
import type { StatusRegistry } from './status.js';

export function opsRoutes(status: StatusRegistry, metrics: Metrics): Route[] {
  return [
    {
      name: 'status', method: 'GET', path: /^\/status\/v2\/?$/,
      handle: async (_req, res) => sendJson(res, 200, await status.snapshot()),
    },
    {
      name: 'lbstatus', method: 'GET', path: /^\/status\/v2\/lbstatus\/?$/,
      handle: async (_req, res) => {
        const lb = await status.lbStatus();
        sendText(res, lb.ok ? 200 : 503, lb.ok ? 'OK\n' : `UNAVAILABLE${lb.reason ? `: ${lb.reason}` : ''}\n`);
      },
    },
    {
      name: 'metrics', method: 'GET', path: /^\/metrics\/?$/,
      handle: async (_req, res) => {
        const { contentType, body } = await metrics.render();
        sendText(res, 200, body, contentType);
      },
    },
  ];
}
