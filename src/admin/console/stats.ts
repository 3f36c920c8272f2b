// /console/stats — sign-ins and failures per second on each node over the last ten minutes, as server-rendered
// SVG charts (no scripts), with the totals as text.
import { html, type SafeHtml } from '../../auth/views/html.js';
import type { ConsolePage } from './context.js';

interface Sample { at: string; signIns: number; failures: number }
interface NodeStats { index: number; name: string; samples: Sample[] }

const W = 600;
const H = 160;
const PAD = { left: 30, right: 6, top: 8, bottom: 18 };

function points(samples: Sample[], pick: (s: Sample) => number, max: number): string {
  const n = Math.max(1, samples.length - 1);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  return samples.map((s, i) => `${(PAD.left + (i / n) * iw).toFixed(1)},${(PAD.top + ih - (pick(s) / max) * ih).toFixed(1)}`).join(' ');
}

/** One node's chart: two polylines over a shared axis, labelled for screen readers. */
export function chart(node: NodeStats): SafeHtml {
  const s = node.samples;
  const peak = Math.max(0, ...s.map((x) => Math.max(x.signIns, x.failures)));
  const max = Math.max(1, peak);
  const bottom = H - PAD.bottom;
  const minutes = Math.round(s.length / 60);
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Sign-ins and failures per second on node ${node.index}, last ${minutes} minutes, peak ${peak} per second">
<line class="axis" x1="${PAD.left}" y1="${bottom}" x2="${W - PAD.right}" y2="${bottom}"></line>
<line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${bottom}"></line>
<text x="2" y="${PAD.top + 8}">${max}/s</text><text x="2" y="${bottom}">0</text>
<text x="${PAD.left}" y="${H - 4}">−${minutes} min</text><text x="${W - PAD.right - 24}" y="${H - 4}">now</text>
${s.length ? html`<polyline class="signins" points="${points(s, (x) => x.signIns, max)}"></polyline>
<polyline class="failures" points="${points(s, (x) => x.failures, max)}"></polyline>` : ''}
</svg>`;
}

export const statsPage: ConsolePage = {
  path: '/console/stats',
  title: 'Statistics',
  async render(ctx) {
    const answer = await ctx.api<{ nodes: NodeStats[] }>('GET', '/admin/api/stats');
    if (answer.error) return html`<p class="notice error" role="alert">The statistics could not be read: ${answer.error.message}</p>`;
    const nodes = answer.body.nodes.filter(Boolean);
    if (!nodes.length) return html`<p class="muted">No node answered. Check the <a href="/console/health">health page</a>.</p>`;
    const figures = nodes.map((n) => {
      const ok = n.samples.reduce((a, x) => a + x.signIns, 0);
      const failed = n.samples.reduce((a, x) => a + x.failures, 0);
      return html`<figure id="stats-${n.index}" data-signins="${ok}" data-failures="${failed}">
<figcaption>Node ${n.index} · ${n.name}</figcaption>
${chart(n)}
<p class="muted"><span class="legend-signins">■ sign-ins</span> ${ok} · <span class="legend-failures">■ failures</span> ${failed} in the last ${Math.round(n.samples.length / 60)} minutes${ok + failed === 0 ? ' (no sign-in attempts yet)' : ''}</p>
</figure>`;
    });
    return html`<p class="muted">Sign-in successes and failures per second on each node (failures include locked-out attempts). Reload the page for the latest figures.</p>
<div class="charts">${figures}</div>`;
  },
};
