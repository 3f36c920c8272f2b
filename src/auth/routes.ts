// URL layout of the sign-in pages. The uid pattern matches oidc-provider's interaction ids only.
import type { Route } from '../http/router.js';
import type { Interactions } from './interactions.js';
import { brandStylesheet, STYLESHEET, type Branding } from './views/layout.js';

const UID = '([A-Za-z0-9_-]{10,64})';

export function interactionRoutes(interactions: Interactions, branding?: Branding): Route[] {
  return [
    { name: 'interaction.show', method: 'GET', path: new RegExp(`^/interaction/${UID}$`), handle: (q, s, [uid]) => interactions.show(q, s, uid!) },
    { name: 'interaction.login', method: 'POST', path: new RegExp(`^/interaction/${UID}/login$`), handle: (q, s, [uid]) => interactions.login(q, s, uid!) },
    { name: 'interaction.password', method: 'POST', path: new RegExp(`^/interaction/${UID}/password$`), handle: (q, s, [uid]) => interactions.changePassword(q, s, uid!) },
    { name: 'interaction.confirm', method: 'POST', path: new RegExp(`^/interaction/${UID}/confirm$`), handle: (q, s, [uid]) => interactions.confirm(q, s, uid!) },
    { name: 'interaction.abort', method: 'POST', path: new RegExp(`^/interaction/${UID}/abort$`), handle: (q, s, [uid]) => interactions.abort(q, s, uid!) },
    {
      name: 'assets', method: 'GET', path: /^\/assets\/cohort\.css$/,
      handle: async (_q, res) => {
        res.setHeader('Content-Type', 'text/css; charset=utf-8');
        res.setHeader('Cache-Control', 'public, max-age=3600');
        res.end(STYLESHEET);
      },
    },
    {
      name: 'assets', method: 'GET', path: /^\/assets\/brand\.css$/,
      handle: async (_q, res) => {
        res.setHeader('Content-Type', 'text/css; charset=utf-8');
        // Short cache: a published branding change should show within a minute.
        res.setHeader('Cache-Control', 'public, max-age=60');
        res.end(branding ? brandStylesheet(branding) : '');
      },
    },
  ];
}
