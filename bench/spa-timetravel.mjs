// The auditors' time travel benchmark (run by bench/spa-timetravel.sh; a
// benchmark, not a test): a ticket with SPA_TT_EVENTS (10,000) events
// appended over REST (comments and severity changes, one client: commands
// on one stream only race each other), then in
// Chromium the auditor steps to SPA_TT_STEPS (50) random versions; each
// step is timed from the navigation to the page showing that version's
// fields (banner and Details of version N). Beside it, in the same run, the
// plain `ticketAsOf` GraphQL query for the same versions. Budget: p95 ≤ 200 ms.
// Environment (set by the .sh): TEST_DATABASE_URL, TICKETERA_BIN.
import { comment, command, eventually, graphql, login, openTicket, startServer } from '../tests/node/helpers.mjs';
import { createUser, launch, newContext, signIn } from '../tests/node/spa-helpers.mjs';

const EVENTS = Number(process.env.SPA_TT_EVENTS ?? 10_000);
const STEPS = Number(process.env.SPA_TT_STEPS ?? 50);
const CONCURRENCY = Number(process.env.SPA_TT_CONCURRENCY ?? 1);
const BUDGET_MS = 200;
const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

const out = (s = '') => console.log(s);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (v) => `${v.toFixed(0)} ms`;

const server = await startServer({ env: { TICKETERA_GRAPHQL_RATE_PER_MINUTE: '0' } });
let browser;
try {
  const admin = await login(server);
  const t = await openTicket(server, admin, { title: 'Ticket de 10.000 eventos', severity: 'HIGH' });
  const started = Date.now();
  let next = 1;
  let done = 1;
  let retries = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= EVENTS) return;
        // Commands on one stream race: a 409 concurrent_change is tried again.
        for (let attempt = 0; ; attempt++) {
          try {
            if (i % 10 === 0) await command(server, admin, t.id, 'severity', { severity: SEVERITIES[(i / 10) % 4], reason: `paso ${i}` });
            else await comment(server, admin, t.id, `nota ${i}`);
            break;
          } catch (e) {
            if (!/: 409 .*concurrent_change/.test(e.message) || attempt > 50) throw e;
            retries++;
          }
        }
        done++;
        if (done % 1000 === 0) process.stderr.write(`==> ${done} events\n`);
      }
    }),
  );
  await eventually(
    async () => (await graphql(server, admin, 'query($id: ID!) { ticket(id: $id) { version } }', { id: t.id })).data?.ticket?.version === EVENTS,
    { timeoutMs: 120_000, what: `the read model at version ${EVENTS}` },
  );
  out(`ticket ${t.number}: ${EVENTS} events appended in ${((Date.now() - started) / 1000).toFixed(1)} s (${CONCURRENCY} concurrent REST clients, ${retries} retried after a concurrent change)`);

  const versions = Array.from({ length: STEPS }, () => 1 + Math.floor(Math.random() * (EVENTS - 1)));
  const auditor = await createUser(server, admin, 'auditor', 'aud');
  browser = await launch();
  const { page } = await newContext(browser, server);
  await signIn(page, server, auditor);
  await page.goto(`${server.base}/tickets/${t.number}`);
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${t.number}\\b`) }).waitFor({ timeout: 60_000 });
  // A first step, not measured (the chunk and the first ticketAsOf warm up).
  await page.getByRole('button', { name: 'Primera versión' }).click();
  await page.locator('[data-testid="as-of-banner"][data-version="1"]').waitFor({ timeout: 300_000 });

  // Each step: the client-side navigation an auditor's step makes, timed in
  // the page until the banner and the Details' version both say N.
  const spa = [];
  for (const v of versions) {
    const elapsed = await page.evaluate(
      (v) =>
        new Promise((resolve, reject) => {
          const t0 = performance.now();
          const shown = () =>
            document.querySelector(`[data-testid="as-of-banner"][data-version="${v}"]`) &&
            [...document.querySelectorAll('dt')].some((dt) => dt.textContent === 'Versión' && dt.nextElementSibling?.textContent === String(v));
          const obs = new MutationObserver(() => {
            if (shown()) {
              obs.disconnect();
              resolve(performance.now() - t0);
            }
          });
          obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
          setTimeout(() => {
            obs.disconnect();
            reject(new Error(`version ${v} not shown in 120 s`));
          }, 120_000);
          window.history.pushState(window.history.state, '', `${location.pathname}?version=${v}`);
          window.dispatchEvent(new PopStateEvent('popstate', { state: window.history.state }));
        }),
      v,
    );
    spa.push(elapsed);
  }

  const gql = [];
  const token = await login(server, auditor.username, auditor.password);
  for (const v of versions) {
    const t0 = performance.now();
    const r = await graphql(server, token, 'query($id: ID!, $v: Int) { ticketAsOf(id: $id, version: $v) { version status severity assignee tags } }', { id: t.id, v });
    gql.push(performance.now() - t0);
    if (r.data?.ticketAsOf?.version !== v) throw new Error(`ticketAsOf(version: ${v}) answered ${JSON.stringify(r)}`);
  }

  out();
  out(`time travel to ${STEPS} random versions of ${EVENTS} (budget p95 ≤ ${BUDGET_MS} ms):`);
  out(`  SPA step → version's fields shown: p50 ${ms(pct(spa, 50))}, p95 ${ms(pct(spa, 95))}, max ${ms(Math.max(...spa))}`);
  out(`  ticketAsOf over HTTP (same versions): p50 ${ms(pct(gql, 50))}, p95 ${ms(pct(gql, 95))}`);
  out(`  ${pct(spa, 95) <= BUDGET_MS ? 'within budget' : 'OVER BUDGET'}`);
} finally {
  await browser?.close();
  await server.stop();
}
