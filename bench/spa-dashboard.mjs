// The leads' dashboard benchmark (run by bench/spa-dashboard.sh; a
// benchmark, not a test): the dashboard's first render — navigation start
// to every chart drawn (ECharts' `finished` on each of the 7 charts) — with
// 100,000 tickets in the database (budget 1 s), beside, in the same run,
//   - a static page of the same server (the same figures as plain HTML with
//     the app's stylesheet, no script), navigation start → its table in the DOM;
//   - the plain `stats` GraphQL query the page sends, from Node over HTTP.
// The tickets are written straight into the event store (TicketOpened
// events in the server's own row shape, numbers from its sequence, 10,000
// per statement) and projected by the running server: opening 100,000
// over REST through a debug build takes far longer and measures nothing
// the dashboard does.
// Environment (set by bench/spa-dashboard.sh): TEST_DATABASE_URL,
// TICKETERA_BIN, DASH_BENCH_TICKETS (100000), DASH_BENCH_RUNS (7).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY, REPO_ROOT, eventually, graphql, login, openTicket, psql, startServer } from '../tests/node/helpers.mjs';
import { createUser, launch, newContext } from '../tests/node/spa-helpers.mjs';

const TICKETS = Number(process.env.DASH_BENCH_TICKETS ?? 100_000);
const RUNS = Number(process.env.DASH_BENCH_RUNS ?? 7);
const BATCH = 10_000;
const BUDGET_MS = 1000;
const CHARTS = 7;
const DAYS = 7;

// The query the dashboard sends (web/app/src/dashboard/documents.ts), for the plain-query timing.
const STATS = `query Dashboard($days: Int!, $hours: Int!, $minPosition: String) {
  stats(minPosition: $minPosition) {
    openTickets
    openByStatusSeverity { status severity count }
    daily(days: $days) { day opened resolved acknowledged meanTimeToAcknowledgeSeconds meanTimeToResolveSeconds }
    trend(days: $days) { current { from to opened resolved mtta mttr } previous { from to opened resolved mtta mttr } }
    topRules(first: 10) { ruleName tickets alerts }
    topAssets(first: 10, days: $days) { destinationIp hostname tickets alerts }
    alerts(hours: $hours) { start count }
    deadLetters(hours: $hours) { start count }
  }
}`;

const dist = join(REPO_ROOT, 'web/dist');
const out = (s = '') => console.log(s);
const ms = (v) => `${v.toFixed(0)} ms`;
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const line = (name, xs) =>
  `   ${name.padEnd(30)} median ${ms(pct(xs, 50)).padStart(7)}   p95 ${ms(pct(xs, 95)).padStart(7)}   max ${ms(Math.max(...xs)).padStart(7)}`;

async function totalCount(server, token) {
  const r = await graphql(server, token, '{ tickets(first: 1) { totalCount } }');
  return r.data.tickets.totalCount;
}

/** TicketOpened events for `n` tickets, in the server's row shape, opened over the last 90 days. */
function seedSql(n, metadata) {
  return `
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT 'Ticket', s.id, 1, 'TicketOpened', '2.0',
  jsonb_build_object('TicketOpened', jsonb_build_object(
    'at', to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'by', 'admin', 'tags', '[]'::jsonb,
    'title', 'Bench ' || (ARRAY['Fuerza bruta SSH','Conexión a C2','Exfiltración DNS','Malware en endpoint','Escaneo de puertos'])[1 + s.i % 5] || ' ' || s.i,
    'number', 'SOC-' || nextval('ticket_number_seq'),
    'origin', null, 'source', 'MANUAL',
    'severity', (ARRAY['CRITICAL','HIGH','HIGH','MEDIUM','MEDIUM','MEDIUM','LOW','LOW'])[1 + s.i % 8],
    'source_ip', '198.51.100.' || (s.i % 250 + 1),
    'ticket_id', s.id, 'description', '', 'source_asset', null,
    'destination_ip', '10.20.' || (s.i % 7) || '.' || (s.i % 31 + 1),
    'escalated_from', null, 'destination_asset', null)),
  '${metadata.replaceAll("'", "''")}'::jsonb
FROM (SELECT i, gen_random_uuid()::text AS id, now() - (random() * interval '90 days') AS at
        FROM generate_series(1, ${n}) AS i) AS s;`;
}

/** The dashboard's figures as a plain HTML page with the app's stylesheet, no script. */
function staticPage(stats) {
  const css = readFileSync(join(dist, 'index.html'), 'utf8').match(/href="(\/assets\/[^"]+\.css)"/)?.[1];
  const rows = stats.openByStatusSeverity.map((c) => `<tr><td>${c.status}</td><td>${c.severity}</td><td>${c.count}</td></tr>`).join('\n');
  const days = stats.daily.map((d) => `<tr><td>${d.day}</td><td>${d.opened}</td><td>${d.resolved}</td></tr>`).join('\n');
  return `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Static dashboard</title>${
    css ? `<link rel="stylesheet" href="${css}">` : ''
  }</head><body><h1>Panel</h1><p>${stats.openTickets} tickets abiertos</p><table id="figures"><tbody>\n${rows}\n</tbody></table><table><tbody>\n${days}\n</tbody></table></body></html>`;
}

/** Navigation start → every chart drawn (SPA) or the table in the DOM (static), in the page's clock. */
async function firstRender(page, url, spa) {
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(
    ({ spa, n }) => {
      if (!spa) return document.querySelector('#figures tr') ? performance.now() : false;
      const charts = [...document.querySelectorAll('[data-chart]')];
      return charts.length === n && charts.every((c) => Number(c.dataset.drawn ?? 0) >= 1) ? performance.now() : false;
    },
    { spa, n: CHARTS },
    { polling: 'raf', timeout: 60_000 },
  );
  return handle.jsonValue();
}

/** A refresh cookie for `user` (the SPA's cookie session), opened over REST. */
async function cookieSession(server, user) {
  const res = await fetch(`${server.base}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'x-ticketera-session': 'cookie', origin: server.base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }),
  });
  if (res.status !== 200) throw new Error(`cookie session: ${res.status}`);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('ticketera_refresh='));
  return set.split(';')[0].slice('ticketera_refresh='.length);
}

out('== SPA dashboard benchmark ==');
out(`binary: ${BINARY}`);
const webDir = mkdtempSync(join(tmpdir(), 'ticketera-dash-bench-web-'));
cpSync(dist, webDir, { recursive: true });
const server = await startServer({ env: { TICKETERA_WEB_DIR: webDir, TICKETERA_GRAPHQL_RATE_PER_MINUTE: '0', RUST_LOG: 'warn' } });
let browser;
try {
  const admin = await login(server);
  const lead = await createUser(server, admin, 'lead', 'bench');

  // ---- seed: straight into the event store, projected by the server ----
  const first = await openTicket(server, admin, { title: 'Bench: the row shape', severity: 'HIGH' });
  const metadata = psql(server.database, `SELECT metadata::text FROM events WHERE aggregate_id = '${first.id}' AND sequence = 1`).trim();
  const seedStart = Date.now();
  for (let done = 0; done < TICKETS; done += BATCH) psql(server.database, seedSql(Math.min(BATCH, TICKETS - done), metadata));
  const insertSecs = (Date.now() - seedStart) / 1000;
  await eventually(async () => ((await totalCount(server, admin)) >= TICKETS + 1 ? true : null), {
    timeoutMs: 1_800_000,
    intervalMs: 2000,
    what: 'the projector',
  });
  const total = await totalCount(server, admin);
  out(`seeded ${TICKETS} tickets into the event store in ${insertSecs.toFixed(1)} s (${BATCH} per statement); all ${total} projected after ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

  // ---- the plain stats query (Node, HTTP, the page's own query) ----
  const query = [];
  let stats;
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = performance.now();
    const r = await graphql(server, admin, STATS, { days: DAYS, hours: DAYS * 24, minPosition: null });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    if (i > 0) query.push(performance.now() - t0); // the first warms the server
    stats = r.data.stats;
  }
  writeFileSync(join(webDir, 'bench-static.html'), staticPage(stats));

  browser = await launch();
  const spaUrl = `${server.base}/dashboard`;
  const staticUrl = `${server.base}/bench-static.html`;
  const spa = [];
  const stat = [];
  let breakdown = [];
  for (let i = 0; i < RUNS; i++) {
    // A new context each run (empty HTTP cache), already holding a refresh cookie.
    const s = await newContext(browser, server);
    await s.context.addCookies([
      { name: 'ticketera_refresh', value: await cookieSession(server, lead), url: `${server.base}/api/v1/auth`, httpOnly: true, sameSite: 'Strict' },
    ]);
    spa.push(await firstRender(s.page, spaUrl, true));
    if (s.problems.length > 0) throw new Error(s.problems.join('\n'));
    // Where the time goes (the last run's resource timings, ms from navigation start).
    breakdown = await s.page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => /\/assets\/.*\.js$|\/api\/v1\/auth\/token|\/graphql$/.test(e.name))
        .map((e) => `${new URL(e.name).pathname.replace(/-[\w-]{8}\.js$/, '.js')} ${e.startTime.toFixed(0)}→${e.responseEnd.toFixed(0)}`),
    );
    await s.context.close();
    const st = await newContext(browser, server);
    stat.push(await firstRender(st.page, staticUrl, false));
    await st.context.close();
  }
  out();
  out(`Dashboard first render (navigation start → all ${CHARTS} charts drawn), ${total} tickets (${stats.openTickets} open), ${DAYS}-day range, cold cache, ${RUNS} runs each`);
  out('   (SPA: cookie session restored, entry + dashboard chunk with ECharts, one stats query, 7 charts;');
  out('    static: the same figures as plain HTML with the same stylesheet, served by the same server;');
  out('    stats query: the same GraphQL query from Node over HTTP with a bearer token)');
  out(line('dashboard (SPA), cold', spa));
  out(line('static page, cold', stat));
  out(line('stats query alone', query));
  out(`   dashboard − static (median): ${ms(pct(spa, 50) - pct(stat, 50))}; dashboard − stats query (median): ${ms(pct(spa, 50) - pct(query, 50))}`);
  out(`   last SPA run, requests (start→end, ms from navigation start): ${breakdown.join('; ')}`);
  out(`   budget 1 s on the dashboard's p95: ${pct(spa, 95) <= BUDGET_MS ? 'within budget' : 'OVER BUDGET'}`);
} finally {
  await browser?.close();
  await server.stop();
  rmSync(webDir, { recursive: true, force: true });
}
