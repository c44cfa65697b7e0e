// The leads' dashboard (/dashboard) and the queue's live arrivals in
// Chromium (Playwright, Debian's /usr/bin/chromium) against a real
// `ticketera serve` on PostgreSQL: every chart drawn, the open-ticket count
// changing live when a ticket opens elsewhere, the range in the URL across a
// reload, axe in both languages; a filtered queue showing a newly opened
// matching ticket live and not one that does not match; the created-range
// date inputs in the UI's language. Screenshots to target/spa-screenshots/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { command, graphql, openTicket, eventually } from './helpers.mjs';
import { UI, axeSerious, createUser, row, screenshot, signIn, spaSuite } from './spa-helpers.mjs';

const es = UI.es;
// A liveness bound, not a latency target (bench/spa-dashboard.sh measures the render).
const LIVE_BOUND_MS = 20_000;
const CHARTS = 7;

describe('dashboard and live queue', () => {
  let server;
  let admin;
  const { open, uiTest } = spaSuite({
    timeout: 120_000,
    ready: (s) => {
      ({ server, admin } = s);
    },
  });

  async function projected(number) {
    return eventually(
      async () => {
        const r = await graphql(server, admin, 'query($n: String!) { ticket(number: $n) { id number version } }', { n: number });
        return r.data?.ticket ?? null;
      },
      { what: `${number} in the read model` },
    );
  }

  /** Every chart of the dashboard has drawn (ECharts' `finished`), and the figures are in. */
  async function chartsDrawn(page, atLeast = 1) {
    await page.waitForFunction(
      ({ n, draws }) => {
        const charts = [...document.querySelectorAll('[data-chart]')];
        return charts.length === n && charts.every((c) => Number(c.dataset.drawn ?? 0) >= draws);
      },
      { n: CHARTS, draws: atLeast },
    );
  }

  const openCount = async (page) => Number((await page.getByTestId('open-tickets').locator('[data-kpi-value]').innerText()).replace(/\D/g, ''));

  uiTest('a lead opens the dashboard: every chart drawn, with its table; the open count changes live', async () => {
    const lead = await createUser(server, admin, 'lead', 'lead');
    for (const [i, severity] of ['CRITICAL', 'HIGH', 'HIGH', 'MEDIUM', 'LOW'].entries()) {
      const t = await openTicket(server, admin, { title: `Dashboard seed ${i} ${randomUUID().slice(0, 6)}`, severity, destination_ip: `10.20.1.${i + 10}` });
      if (i === 0) await command(server, admin, t.id, 'assign', { assignee: 'admin' });
    }
    const { page, problems } = await open();
    await signIn(page, server, lead);
    await page.getByRole('navigation', { name: 'Navegación principal' }).getByRole('link', { name: 'Panel', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Panel' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/dashboard');
    await chartsDrawn(page);
    const before = await eventually(async () => {
      const n = await openCount(page);
      return n >= 5 ? n : null;
    }, { what: 'the seeded tickets counted', timeoutMs: LIVE_BOUND_MS });

    // Every chart is an image with a label saying its figures, and a table.
    const images = page.locator('[data-chart][role="img"]');
    assert.equal(await images.count(), CHARTS);
    for (let i = 0; i < CHARTS; i++) assert.ok((await images.nth(i).getAttribute('aria-label')).length > 20);
    const matrix = page.getByRole('region', { name: 'Tickets abiertos por severidad y estado' });
    const table = matrix.getByRole('table');
    assert.equal(await table.count(), 1, 'the chart has its table for screen readers');
    assert.match(await table.innerText(), /Crítica/);
    await matrix.getByRole('button', { name: 'Ver tabla' }).click();
    assert.equal(await matrix.getByRole('button', { name: 'Ocultar tabla' }).getAttribute('aria-expanded'), 'true');
    assert.ok(await table.isVisible());
    // Values on hover: the tooltip of the stacked bars.
    const box = await matrix.locator('[data-chart]').boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.6);
    const tip = matrix.locator('div.text-xs', { hasText: 'Alta' }).filter({ hasText: 'Nuevo' }).last();
    await tip.waitFor();
    assert.match(await tip.innerText(), /Crítica\s+1/);
    await screenshot(page, 'es-20-dashboard');

    // Another context opens a ticket over REST: the count moves, without a reload.
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    const t = await openTicket(server, admin, { title: `Live dashboard ${randomUUID().slice(0, 6)}`, severity: 'CRITICAL' });
    await projected(t.number);
    await eventually(async () => ((await openCount(page)) === before + 1 ? true : null), {
      what: `the open count going from ${before} to ${before + 1}`,
      timeoutMs: LIVE_BOUND_MS,
    });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    assert.equal(await page.getByRole('status').filter({ hasText: 'Cargando el panel' }).count(), 0, 'no flicker back to loading');
    assert.deepEqual(problems, []);
  });

  uiTest('the range is in the URL and survives a reload', async () => {
    const lead = await createUser(server, admin, 'lead', 'range');
    const { page, problems } = await open();
    await signIn(page, server, lead);
    await page.goto(`${server.base}/dashboard`);
    await chartsDrawn(page);
    const range = page.getByRole('navigation', { name: 'Periodo' });
    await range.getByRole('link', { name: 'Últimos 30 días' }).click();
    await page.waitForURL(/\/dashboard\?days=30$/);
    assert.equal(await range.getByRole('link', { name: 'Últimos 30 días' }).getAttribute('aria-current'), 'page');
    await page.reload();
    await chartsDrawn(page);
    assert.match(page.url(), /\/dashboard\?days=30$/);
    assert.equal(await page.getByRole('navigation', { name: 'Periodo' }).getByRole('link', { name: 'Últimos 30 días' }).getAttribute('aria-current'), 'page');
    // 30 days per day in the table of the per-day chart.
    const perDay = page.getByRole('region', { name: 'Abiertos y resueltos por día' });
    assert.equal(await perDay.getByRole('table').locator('tbody tr').count(), 30);
    // A range not offered falls back to the default.
    await page.goto(`${server.base}/dashboard?days=13`);
    await chartsDrawn(page);
    assert.equal(await page.getByRole('navigation', { name: 'Periodo' }).getByRole('link', { name: 'Últimos 7 días' }).getAttribute('aria-current'), 'page');
    assert.deepEqual(problems, []);
  });

  for (const lang of ['es', 'en']) {
    uiTest(`axe: no serious or critical violation on the dashboard (${lang})`, async () => {
      const lead = await createUser(server, admin, 'lead', `axe${lang}`);
      const { page, problems } = await open({ lang });
      await signIn(page, server, lead, { lang });
      await page.goto(`${server.base}/dashboard?days=30`);
      await chartsDrawn(page);
      assert.deepEqual(await axeSerious(page), []);
      // With the tables shown as well.
      const show = page.getByRole('button', { name: lang === 'es' ? 'Ver tabla' : 'Show table' });
      while ((await show.count()) > 0) await show.first().click();
      assert.deepEqual(await axeSerious(page), []);
      await screenshot(page, `${lang}-21-dashboard-tables`, { fullPage: true });
      assert.deepEqual(problems, []);
    });
  }

  uiTest('a filtered queue (severity=HIGH) shows a newly opened HIGH ticket live, not a LOW one', async () => {
    const analyst = await createUser(server, admin, 'analyst', 'filtered');
    const { page, problems } = await open();
    await signIn(page, server, analyst);
    await page.goto(`${server.base}/tickets?severity=HIGH`);
    await page.getByRole('grid', { name: es.grid }).waitFor();
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    const tag = randomUUID().slice(0, 6);
    const low = await openTicket(server, admin, { title: `Baja en vivo ${tag}`, severity: 'LOW' });
    const high = await openTicket(server, admin, { title: `Alta en vivo ${tag}`, severity: 'HIGH' });
    // Events arrive in order: once the HIGH one is shown, the LOW one has been seen (and left out).
    await row(page, high.number).waitFor({ timeout: LIVE_BOUND_MS });
    assert.equal(await row(page, low.number).count(), 0, `${low.number} (LOW) is not in a HIGH view`);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await screenshot(page, 'es-22-queue-filtered-live');
    assert.deepEqual(problems, []);
  });

  uiTest('a ticket changed into the filter appears live at its place, keeping the selection', async () => {
    const analyst = await createUser(server, admin, 'analyst', 'changed');
    const tag = randomUUID().slice(0, 6);
    // Older and still NEW: not in an IN_PROGRESS view until it is started.
    const older = await openTicket(server, admin, { title: `Pasa a la vista ${tag}`, severity: 'HIGH' });
    const newer = await openTicket(server, admin, { title: `Ya en la vista ${tag}`, severity: 'HIGH' });
    await command(server, admin, newer.id, 'assign', { assignee: 'admin' });
    await command(server, admin, newer.id, 'start');
    await eventually(
      async () => {
        const r = await graphql(server, admin, 'query($n: String!) { ticket(number: $n) { status } }', { n: newer.number });
        return r.data?.ticket?.status === 'IN_PROGRESS' ? true : null;
      },
      { what: `${newer.number} started` },
    );
    const { page, problems } = await open();
    await signIn(page, server, analyst);
    await page.goto(`${server.base}/tickets?status=IN_PROGRESS&q=${tag}`);
    await row(page, newer.number).waitFor();
    await page.getByRole('checkbox', { name: `Seleccionar ${newer.number}`, exact: true }).check();
    assert.equal(await row(page, older.number).count(), 0);

    await command(server, admin, older.id, 'assign', { assignee: 'admin' });
    await command(server, admin, older.id, 'start');
    await row(page, older.number).waitFor({ timeout: LIVE_BOUND_MS });
    // Newest first: the older ticket goes below the one already there.
    const numbers = await page.getByRole('row').evaluateAll((rows) => rows.map((r) => r.textContent.match(/SOC-\d+/)?.[0]).filter(Boolean));
    assert.deepEqual(numbers, [newer.number, older.number]);
    assert.equal(await row(page, newer.number).getAttribute('aria-selected'), 'true', 'the selection is kept');
    assert.deepEqual(problems, []);
  });

  for (const lang of ['es', 'en']) {
    uiTest(`the created-range fields read in the UI language (${lang}), whatever the browser's own locale`, async () => {
      const analyst = await createUser(server, admin, 'analyst', `dates${lang}`);
      const { page, problems } = await open({ lang });
      await signIn(page, server, analyst, { lang });
      const from = page.getByLabel(lang === 'es' ? 'Creado desde' : 'Created from', { exact: true });
      const pattern = lang === 'es' ? 'dd/mm/aaaa' : 'dd/mm/yyyy';
      assert.equal(await from.getAttribute('placeholder'), pattern);
      await from.fill('30/11/2026');
      await from.press('Enter');
      await page.waitForURL(/createdAfter=2026-11-30/);
      assert.equal(await from.inputValue(), '30/11/2026');
      await screenshot(page, `${lang}-23-queue-date-fields`, { clip: { x: 0, y: 0, width: 1280, height: 230 } });
      // Month first is not a day here: a clear message, the URL untouched.
      await from.fill('11/30/2026');
      await from.press('Enter');
      const alert = page.getByRole('alert').filter({ hasText: pattern });
      await alert.waitFor();
      assert.equal(await from.getAttribute('aria-invalid'), 'true');
      assert.match(page.url(), /createdAfter=2026-11-30/);
      await screenshot(page, `${lang}-24-queue-date-invalid`, { clip: { x: 0, y: 0, width: 1280, height: 230 } });
      assert.deepEqual(await axeSerious(page), []);
      await from.fill('');
      await from.press('Enter');
      await page.waitForURL((u) => !u.search.includes('createdAfter'));
      assert.deepEqual(await axeSerious(page), []);
      assert.deepEqual(problems, []);
    });
  }
});
