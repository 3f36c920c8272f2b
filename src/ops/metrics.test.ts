import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { Metrics } from './metrics.js';

/** The value of one sample line of the exposition, e.g. sample(body, 'cohort_signins_total{result="ok"}'). */
function sample(body: string, series: string): string | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line?.slice(series.length + 1);
}

describe('Metrics', () => {
  it('counts sign-ins by result and tokens by grant, folding unknown grants into other', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.signIn('ok');
    m.signIn('ok');
    m.signIn('failed');
    m.signIn('locked');
    m.tokenIssued('authorization_code');
    m.tokenIssued('client_credentials');
    m.tokenIssued('made-up-by-a-client');
    const { contentType, body } = await m.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(body, 'cohort_signins_total{result="ok"}'), '2');
    assert.equal(sample(body, 'cohort_signins_total{result="failed"}'), '1');
    assert.equal(sample(body, 'cohort_signins_total{result="locked"}'), '1');
    assert.equal(sample(body, 'cohort_tokens_issued_total{grant="authorization_code"}'), '1');
    assert.equal(sample(body, 'cohort_tokens_issued_total{grant="client_credentials"}'), '1');
    assert.equal(sample(body, 'cohort_tokens_issued_total{grant="other"}'), '1');
    assert.ok(!body.includes('made-up-by-a-client'));
  });

  it('records request durations in buckets by route, method and status', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.observeRequest('token', 'post', 200, 0.03);
    m.observeRequest('token', 'POST', 200, 3);
    m.observeRequest('login', 'BREW', 418, 0.001);
    const { body } = await m.render();
    const labels = 'route="token",method="POST",status="200"';
    assert.equal(sample(body, `cohort_http_request_duration_seconds_bucket{le="0.05",${labels}}`), '1');
    assert.equal(sample(body, `cohort_http_request_duration_seconds_bucket{le="5",${labels}}`), '2');
    assert.equal(sample(body, `cohort_http_request_duration_seconds_count{${labels}}`), '2');
    assert.equal(sample(body, 'cohort_http_request_duration_seconds_count{route="login",method="OTHER",status="418"}'), '1');
  });

  it('reads live sessions from the supplied callback at each scrape, NaN when it fails', async () => {
    const m = new Metrics({ defaultMetrics: false });
    assert.equal(sample((await m.render()).body, 'cohort_live_sessions'), '0');
    let sessions = 3;
    m.setLiveSessions(async () => sessions);
    assert.equal(sample((await m.render()).body, 'cohort_live_sessions'), '3');
    sessions = 5;
    assert.equal(sample((await m.render()).body, 'cohort_live_sessions'), '5');
    m.setLiveSessions(() => { throw new Error('store down'); });
    // prom-client spells it 'Nan'; Prometheus parses NaN case-insensitively.
    assert.match(sample((await m.render()).body, 'cohort_live_sessions') ?? '', /^nan$/i);
  });

  it('keeps a registry per instance, with default process metrics, away from the global one', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.signIn('ok');
    const [ra, rb] = await Promise.all([a.render(), b.render()]);
    assert.equal(sample(ra.body, 'cohort_signins_total{result="ok"}'), '1');
    assert.equal(sample(rb.body, 'cohort_signins_total{result="ok"}'), undefined);
    assert.match(ra.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(rb.body, /^nodejs_eventloop_lag_seconds /m);
    assert.equal(globalRegistry.getSingleMetric('cohort_signins_total'), undefined);
    const bare = await new Metrics({ defaultMetrics: false }).render();
    assert.ok(!bare.body.includes('process_cpu_user_seconds_total'));
  });
});
