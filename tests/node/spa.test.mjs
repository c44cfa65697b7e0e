// The analysts' SPA at / in Chromium (Playwright, Debian's /usr/bin/chromium)
// against a real `ticketera serve` on PostgreSQL: sign-in, the live queue,
// the ticket workspace, conflicts, syslog alerts arriving live, the session's
// end, the keyboard path, and axe on every screen in both languages.
// One server for the file; each test has its own users and tickets.
// Screenshots of every screen go to target/spa-screenshots/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { comment, eventually, graphql, login, openTicket } from './helpers.mjs';
import {
  UI,
  axeSerious,
  createUser,
  fortigateAlert,
  row,
  screenshot,
  sendUdp,
  signIn,
  spaSuite,
} from './spa-helpers.mjs';

const es = UI.es;
// A liveness bound, not a latency target (bench/spa.sh measures that): generous
// because a loaded 2-core machine once took longer than 10 s.
const LIVE_BOUND_MS = 20_000;

describe('analysts SPA', () => {
  let server;
  let admin;
  let browser;
  const { open, uiTest } = spaSuite({
    ready: (s) => {
      ({ server, admin, browser } = s);
    },
  });

  /** A ticket opened over REST, once the read model has it. */
  async function restTicket(fields = {}, token = admin) {
    const t = await openTicket(server, token, fields);
    await projected(t.number);
    return t;
  }

  async function projected(number, check = () => true) {
    return eventually(
      async () => {
        const r = await graphql(server, admin, 'query($n: String!) { ticket(number: $n) { id number status version assignee } }', {
          n: number,
        });
        const t = r.data?.ticket;
        return t && check(t) ? t : null;
      },
      { what: `${number} in the read model` },
    );
  }

  /** Waits for the ticket page of `number` to show. */
  async function ticketPage(page, number) {
    await page.getByRole('heading', { level: 1, name: new RegExp(`^${number}\\b`) }).waitFor();
  }

  const badge = (page, text) => page.locator('#main header').getByText(text, { exact: true });

  uiTest('sign-in: a wrong password shows the error, the right one opens the queue', async () => {
    const user = await createUser(server, admin, 'analyst', 'ana');
    const { page, problems } = await open();
    await page.goto(`${server.base}/`);
    await page.getByLabel(es.username, { exact: true }).waitFor();
    await screenshot(page, 'es-01-sign-in');

    await page.getByLabel(es.username, { exact: true }).fill(user.username);
    await page.getByLabel(es.password, { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: es.submit, exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.innerText()).trim(), es.invalid);
    assert.equal(await page.getByRole('grid').count(), 0, 'still signed out');
    await screenshot(page, 'es-02-sign-in-error');

    await page.getByLabel(es.password, { exact: true }).fill(user.password);
    await page.getByRole('button', { name: es.submit, exact: true }).click();
    await page.getByRole('grid', { name: es.grid }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Cola de tickets' }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/tickets\/?$/);
    assert.equal(await page.getByRole('alert').count(), 0, 'the error is gone');
    assert.deepEqual(problems, []);
  });

  uiTest('a ticket opened from the form appears live in a second browser, which keeps its selection', async () => {
    const opener = await createUser(server, admin, 'analyst', 'opener');
    const watcher = await createUser(server, admin, 'analyst', 'watcher');
    const existing = await restTicket({ title: `Selected while tickets arrive ${randomUUID().slice(0, 6)}`, severity: 'LOW' });

    const b = await open();
    await signIn(b.page, server, watcher);
    const selectedRow = row(b.page, existing.number);
    await selectedRow.waitFor();
    await b.page.getByRole('checkbox', { name: `Seleccionar ${existing.number}`, exact: true }).check();
    assert.equal(await selectedRow.getAttribute('aria-selected'), 'true');
    await b.page.getByText(es.selected1, { exact: true }).waitFor();
    await b.page.evaluate(() => {
      window.__sameDocument = true;
    });

    const a = await open();
    await signIn(a.page, server, opener);
    await a.page.getByRole('button', { name: es.newTicket, exact: true }).click();
    const dialog = a.page.getByRole('dialog', { name: es.openDialog });
    await dialog.waitFor();
    await screenshot(a.page, 'es-05-new-ticket-dialog');
    const title = `Exfiltración DNS desde WS-${randomUUID().slice(0, 6)}`;
    await dialog.getByLabel(es.title, { exact: true }).fill(title);
    await dialog.getByLabel(es.severity, { exact: true }).selectOption('HIGH');
    await dialog.getByLabel('IP origen', { exact: true }).fill('10.20.5.77');
    await dialog.getByRole('button', { name: es.openTicket, exact: true }).click();
    const heading = a.page.getByRole('heading', { level: 1, name: new RegExp(title) });
    await heading.waitFor();
    const number = (await heading.innerText()).match(/SOC-\d+/)[0];
    assert.equal(new URL(a.page.url()).pathname, `/tickets/${number}`);
    await badge(a.page, es.status.NEW).waitFor();

    // The second browser: the row arrives without a reload; the selection stays.
    await row(b.page, number).waitFor({ timeout: LIVE_BOUND_MS });
    assert.match(await row(b.page, number).innerText(), new RegExp(title));
    assert.equal(await selectedRow.getAttribute('aria-selected'), 'true', 'the selected row is still selected');
    assert.equal(await b.page.getByRole('checkbox', { name: `Seleccionar ${existing.number}`, exact: true }).isChecked(), true);
    assert.equal(await row(b.page, number).getAttribute('aria-selected'), 'false');
    await b.page.getByText(es.selected1, { exact: true }).waitFor();
    assert.equal(await b.page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await screenshot(b.page, 'es-03-queue-live-selection');
    assert.deepEqual([...a.problems, ...b.problems], []);
  });

  uiTest('assign to me, start, resolve and close from the ticket page', async () => {
    // Closing is a lead's call (analysts resolve).
    const user = await createUser(server, admin, 'lead', 'lifecycle');
    const t = await restTicket({ title: `Fuerza bruta SSH contra bastión ${randomUUID().slice(0, 6)}`, severity: 'CRITICAL', source_ip: '203.0.113.45' });
    const { page, problems } = await open();
    await signIn(page, server, user);
    await page.goto(`${server.base}/tickets/${t.number}`);
    await ticketPage(page, t.number);
    const actions = page.getByRole('toolbar', { name: 'Acciones' });

    await actions.getByRole('button', { name: es.assignToMe, exact: true }).click();
    await actions.getByRole('button', { name: es.assignToMe, exact: true }).waitFor({ state: 'detached' });
    await projected(t.number, (x) => x.assignee === user.username);
    await page.getByRole('definition').filter({ hasText: user.displayName }).first().waitFor();

    await actions.getByRole('button', { name: es.start, exact: true }).click();
    await badge(page, es.status.IN_PROGRESS).waitFor();

    await actions.getByRole('button', { name: es.resolve, exact: true }).click();
    const resolve = page.getByRole('dialog', { name: `${es.resolve} · ${t.number}` });
    await resolve.waitFor();
    await resolve.getByLabel(es.resolution, { exact: true }).selectOption('FALSE_POSITIVE');
    await resolve.getByLabel(es.summary, { exact: true }).fill('Escáner de vulnerabilidades autorizado (cambio CHG-1042).');
    await screenshot(page, 'es-08-resolve-dialog');
    await resolve.getByRole('button', { name: es.resolve, exact: true }).click();
    await badge(page, es.status.RESOLVED).waitFor();
    await resolve.waitFor({ state: 'hidden' });

    await actions.getByRole('button', { name: es.close, exact: true }).click();
    const close = page.getByRole('dialog', { name: `${es.close} · ${t.number}` });
    await close.waitFor();
    await close.getByRole('button', { name: es.close, exact: true }).click();
    await badge(page, es.status.CLOSED).waitFor();

    const final = await projected(t.number, (x) => x.status === 'CLOSED');
    assert.equal(final.assignee, user.username);
    const events = await graphql(server, admin, 'query($id: ID!) { ticketHistory(id: $id) { type actor } }', { id: t.id });
    assert.deepEqual(
      events.data.ticketHistory.slice(1).map((e) => [e.type, e.actor]),
      [
        ['TicketAssigned', user.username],
        ['WorkStarted', user.username],
        ['TicketResolved', user.username],
        ['TicketClosed', user.username],
      ],
    );
    await screenshot(page, 'es-07-ticket-closed');
    assert.deepEqual(problems, []);
  });

  uiTest('a concurrent change shows the conflict message, names who made it, and reload lets the command through', async () => {
    const user = await createUser(server, admin, 'analyst', 'conflict');
    const other = await createUser(server, admin, 'lead', 'lucia');
    const otherToken = await login(server, other.username, other.password);
    const t = await restTicket({ title: `Ransomware: cifrado masivo en FS02 ${randomUUID().slice(0, 6)}`, severity: 'CRITICAL' });
    const { page, problems } = await open();
    await signIn(page, server, user);
    await page.goto(`${server.base}/tickets/${t.number}`);
    await ticketPage(page, t.number);

    // The other user's comment lands after the page built its request with
    // the version it shows, before the server sees that request.
    let intercepted = 0;
    await page.route(`**/api/v1/tickets/${t.id}/start`, async (route) => {
      intercepted += 1;
      if (intercepted === 1) await comment(server, otherToken, t.id, 'Aislado el servidor FS02 de la red.');
      await route.continue();
    });
    const start = page.getByRole('toolbar', { name: 'Acciones' }).getByRole('button', { name: es.start, exact: true });
    const answered = page.waitForResponse((r) => r.url().endsWith(`/tickets/${t.id}/start`));
    await start.click();
    assert.equal((await answered).status(), 412, 'If-Match carried the version shown');
    const alert = page.getByRole('alert').filter({ hasText: es.conflict(other.username) });
    await alert.waitFor();
    await screenshot(page, 'es-09-conflict');
    assert.equal((await projected(t.number)).status, 'NEW', 'nothing was overwritten');

    await alert.getByRole('button', { name: es.reload, exact: true }).click();
    await alert.waitFor({ state: 'detached' });
    await page.getByRole('region', { name: /^Comentarios/ }).getByText('Aislado el servidor FS02 de la red.').waitFor();
    await start.click();
    await badge(page, es.status.IN_PROGRESS).waitFor();
    assert.equal(intercepted, 2);
    assert.equal((await projected(t.number, (x) => x.status === 'IN_PROGRESS')).status, 'IN_PROGRESS');
    assert.deepEqual(problems, []);
  });

  uiTest('a FortiGate alert sent over UDP appears in the open queue without a reload', async () => {
    const user = await createUser(server, admin, 'analyst', 'syslog');
    const { page, problems } = await open();
    await signIn(page, server, user);
    await page.goto(`${server.base}/tickets?status=NEW,IN_PROGRESS,ON_HOLD`);
    await page.getByRole('grid', { name: es.grid }).waitFor();
    await page.getByRole('status').filter({ hasText: 'En vivo' }).waitFor();
    await page.evaluate(() => {
      window.__sameDocument = true;
    });

    const srcip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    const attack = `Apache.Log4j.Error.Log.Remote.Code.Execution.${randomUUID().slice(0, 4)}`;
    const sentAt = Date.now();
    await sendUdp(server, fortigateAlert({ srcip, attack }));
    const alertRow = page.getByRole('row').filter({ hasText: attack });
    await alertRow.waitFor({ timeout: LIVE_BOUND_MS });
    const shownMs = Date.now() - sentAt;
    const text = await alertRow.innerText();
    assert.match(text, new RegExp(srcip.replaceAll('.', '\\.')));
    assert.match(text, /Crítica/);
    assert.match(text, /Nuevo/);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await screenshot(page, 'es-04-queue-syslog-alert');
    assert.ok(shownMs < LIVE_BOUND_MS, `shown after ${shownMs} ms`);
    assert.deepEqual(problems, []);
  });

  uiTest('a ticket opened after the queue loaded but before the live feed subscribed still arrives', async () => {
    const user = await createUser(server, admin, 'analyst', 'late');
    const { page, problems } = await open();
    // The browser's subscribe messages wait (in order) until the ticket is
    // opened and projected: the server registers the subscription after it,
    // as a loaded server may.
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    let subscribes = 0;
    await page.routeWebSocket(/\/graphql\/ws$/, (ws) => {
      const upstream = ws.connectToServer();
      let chain = Promise.resolve();
      ws.onMessage((message) => {
        chain = chain.then(async () => {
          if (typeof message === 'string' && JSON.parse(message).type === 'subscribe') {
            subscribes += 1;
            await held;
          }
          upstream.send(message);
        });
      });
    });
    await signIn(page, server, user);
    await page.getByRole('status').filter({ hasText: 'En vivo' }).waitFor();
    await eventually(async () => subscribes > 0 || null, { what: 'the held subscription' });
    const late = await restTicket({ title: `Abierto antes de suscribirse ${randomUUID().slice(0, 6)}`, severity: 'HIGH' });
    assert.equal(await row(page, late.number).count(), 0, 'the queue loaded before the ticket');
    release();
    await row(page, late.number).waitFor({ timeout: LIVE_BOUND_MS });
    assert.deepEqual(problems, []);
  });

  uiTest('a reload keeps the session; logout ends it on the server (the refresh cookie no longer works)', async () => {
    const user = await createUser(server, admin, 'analyst', 'session');
    const { context, page, problems } = await open();
    await signIn(page, server, user);

    const cookieOf = async () => (await context.cookies()).find((c) => c.name === 'ticketera_refresh');
    const first = await cookieOf();
    assert.ok(first, 'the refresh cookie is set');
    assert.equal(first.httpOnly, true);
    assert.equal(first.sameSite, 'Strict');
    assert.equal(first.path, '/api/v1/auth');
    assert.equal(await page.evaluate(() => document.cookie.includes('ticketera_refresh')), false, 'not readable by scripts');

    await page.reload();
    await page.getByRole('grid', { name: es.grid }).waitFor();
    assert.equal(await page.getByLabel(es.password, { exact: true }).count(), 0, 'no sign-in form after the reload');
    await page.getByText(new RegExp(user.displayName)).first().waitFor();

    const cookie = await cookieOf(); // rotated by the reload's refresh
    // The same request with a live session's cookie works (the control).
    const control = await restCookieSession(user);
    assert.equal((await refreshWithCookie(control)).status, 200, 'a refresh with a live cookie succeeds');

    const loggedOut = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'));
    await page.getByRole('button', { name: es.signOut, exact: true }).click();
    assert.equal((await loggedOut).status(), 204);
    await page.getByRole('status').filter({ hasText: es.signedOut }).waitFor();
    await page.getByLabel(es.username, { exact: true }).waitFor();
    await screenshot(page, 'es-10-signed-out');

    const after = await refreshWithCookie(cookie.value);
    assert.ok(after.status >= 400 && after.status < 500, `the logged-out cookie is refused (HTTP ${after.status})`);
    await page.reload();
    await page.getByLabel(es.username, { exact: true }).waitFor();
    assert.equal(await page.getByRole('grid').count(), 0, 'signed out after a reload too');
    assert.deepEqual(problems, []);
  });

  async function refreshWithCookie(value) {
    return fetch(`${server.base}/api/v1/auth/token`, {
      method: 'POST',
      headers: {
        cookie: `ticketera_refresh=${value}`,
        'x-ticketera-session': 'cookie',
        origin: server.base,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=refresh_token',
    });
  }

  /** A cookie session of `user` opened over REST: the value of its refresh cookie. */
  async function restCookieSession(user) {
    const res = await fetch(`${server.base}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'x-ticketera-session': 'cookie', origin: server.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }),
    });
    assert.equal(res.status, 200);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('ticketera_refresh='));
    assert.ok(set, 'the token endpoint sets the refresh cookie');
    return set.split(';')[0].slice('ticketera_refresh='.length);
  }

  uiTest('keyboard only: sign in, find, open and assign to me', async () => {
    const user = await createUser(server, admin, 'analyst', 'keys');
    const word = `kbd${randomUUID().slice(0, 6)}`;
    await restTicket({ title: `Tráfico saliente a TOR (otro) ${randomUUID().slice(0, 6)}`, severity: 'MEDIUM' });
    const t = await restTicket({ title: `Beaconing a dominio C2 ${word}`, severity: 'HIGH', source_ip: '10.30.7.12' });
    await restTicket({ title: `Phishing reportado por usuario ${randomUUID().slice(0, 6)}`, severity: 'LOW' });
    const { page, problems } = await open();
    const kb = page.keyboard;
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const label = el?.labels?.[0]?.textContent ?? el?.getAttribute('aria-label') ?? '';
        const style = el ? getComputedStyle(el) : null;
        return {
          tag: el?.tagName,
          label: label.trim(),
          text: (el?.textContent ?? '').trim().slice(0, 80),
          role: el?.getAttribute('role'),
          ring: style ? style.outlineStyle !== 'none' && style.outlineWidth !== '0px' ? 'outline' : style.boxShadow !== 'none' ? 'shadow' : '' : '',
        };
      });

    await page.goto(`${server.base}/`);
    await page.getByLabel(es.username, { exact: true }).waitFor();
    assert.equal((await focused()).label, es.username, 'the username field has the focus');
    await kb.type(user.username);
    await kb.press('Tab');
    assert.equal((await focused()).label, es.password);
    await kb.type(user.password);
    await kb.press('Enter');
    await page.getByRole('grid', { name: es.grid }).waitFor();

    // `?` lists the shortcuts; Escape closes them.
    await kb.press('?');
    await page.getByRole('dialog', { name: es.shortcuts }).waitFor();
    await kb.press('Escape');
    await page.getByRole('dialog', { name: es.shortcuts }).waitFor({ state: 'detached' }).catch(async () => {
      assert.equal(await page.getByRole('dialog', { name: es.shortcuts }).isVisible(), false);
    });

    // `/` searches.
    await kb.press('/');
    await eventually(async () => (await focused()).label === es.search, { what: 'the search field to take the focus' });
    await kb.type(word);
    await kb.press('Enter');
    await eventually(async () => (await page.getByRole('row').count()) === 2 && (await row(page, t.number).count()) === 1, {
      what: 'the queue to show only the ticket found',
    });
    assert.match(page.url(), new RegExp(`q=${word}`));

    // j lands on the row, Enter opens it.
    await kb.press('Escape');
    await kb.press('j');
    await eventually(async () => (await focused()).role === 'row', { what: 'j to focus the row' });
    const onRow = await focused();
    assert.match(onRow.text, new RegExp(t.number));
    assert.ok(onRow.ring, 'the focused row shows its focus');
    await screenshot(page, 'es-11-keyboard-row-focus');
    await kb.press('Enter');
    await ticketPage(page, t.number);

    // Tab to "Asignarme", Enter.
    let onButton = null;
    for (let i = 0; i < 40 && !onButton; i++) {
      await kb.press('Tab');
      const f = await focused();
      if (f.tag === 'BUTTON' && f.text === es.assignToMe) onButton = f;
    }
    assert.ok(onButton, `Tab reaches "${es.assignToMe}"`);
    assert.ok(onButton.ring, 'the focused button shows its focus');
    await screenshot(page, 'es-12-keyboard-assign-focus');
    await kb.press('Enter');
    await page.getByRole('toolbar', { name: 'Acciones' }).getByRole('button', { name: es.assignToMe, exact: true }).waitFor({ state: 'detached' });
    assert.equal((await projected(t.number, (x) => x.assignee === user.username)).assignee, user.username);
    assert.deepEqual(problems, []);
  });

  uiTest('axe: no serious or critical WCAG 2.2 AA violation on any screen, in Spanish and in English', { timeout: 180_000 }, async (t) => {
    const lead = await createUser(server, admin, 'lead', 'axe');
    const leadToken = await login(server, lead.username, lead.password);
    const rich = await restTicket(
      {
        title: `Conexión a dominio C2 conocido desde WS-0231 ${randomUUID().slice(0, 4)}`,
        description: 'Detectado por el proxy.\n\nRevisar el host y los registros de DNS.',
        severity: 'HIGH',
        source_ip: '10.20.5.31',
        destination_ip: '203.0.113.99',
      },
      leadToken,
    );
    await comment(server, leadToken, rich.id, '**Contenido**: bloqueado en el proxy; `evil.example` añadido a la lista.');
    await restTicket({ title: 'Inicio de sesión imposible (viaje)', severity: 'MEDIUM', source_ip: '192.0.2.10' });
    await restTicket({ title: 'Escaneo de puertos desde Internet', severity: 'LOW', source_ip: '203.0.113.8' });

    const found = [];
    const check = async (page, lang, screen) => {
      const v = await axeSerious(page);
      await screenshot(page, `${lang}-axe-${screen}`);
      for (const line of v) found.push(`[${lang}] ${screen}: ${line}`);
      t.diagnostic(`${lang} ${screen}: ${v.length} serious/critical`);
    };

    for (const lang of ['es', 'en']) {
      const { page, problems } = await open({ lang });
      const dialog = () => page.getByRole('dialog');
      await page.goto(`${server.base}/`);
      await page.locator('input[autocomplete="username"]').waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
      const ui = UI[lang];
      await page.getByLabel(ui.username, { exact: true }).waitFor();
      await check(page, lang, 'sign-in');

      await page.getByLabel(ui.username, { exact: true }).fill(lead.username);
      await page.getByLabel(ui.password, { exact: true }).fill('wrong password');
      await page.getByRole('button', { name: ui.submit, exact: true }).click();
      await page.getByRole('alert').waitFor();
      await check(page, lang, 'sign-in-error');

      await signIn(page, server, lead, { lang, goto: false });
      await row(page, rich.number).waitFor();
      await check(page, lang, 'queue');

      await page.getByRole('checkbox').nth(1).check();
      await page.getByRole('toolbar').first().waitFor();
      await check(page, lang, 'queue-selection');
      await page.getByRole('checkbox').nth(1).uncheck();

      await page.getByRole('button', { name: ui.newTicket, exact: true }).click();
      await page.getByRole('dialog', { name: ui.openDialog }).waitFor();
      await check(page, lang, 'new-ticket-dialog');
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'hidden' });

      await page.keyboard.press('Control+k');
      await page.getByRole('dialog').getByRole('combobox').waitFor();
      await page.keyboard.type(rich.number.slice(4));
      await check(page, lang, 'command-palette');
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'hidden' });

      await page.locator('body').press('?');
      await page.getByRole('dialog', { name: ui.shortcuts }).waitFor();
      await check(page, lang, 'shortcuts');
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'hidden' });

      await page.goto(`${server.base}/tickets/${rich.number}`);
      await ticketPage(page, rich.number);
      // The rendered comment (its Markdown code span), not the timeline's raw text of it.
      await page.locator('code', { hasText: 'evil.example' }).waitFor();
      await check(page, lang, 'ticket');

      await page.getByRole('toolbar').getByRole('button', { name: ui.resolve, exact: true }).click();
      await dialog().waitFor();
      await check(page, lang, 'resolve-dialog');
      await page.keyboard.press('Escape');
      await dialog().waitFor({ state: 'hidden' });

      await page.goto(`${server.base}/tickets/SOC-999999`);
      await page.getByRole('alert').waitFor();
      await check(page, lang, 'ticket-not-found');
      assert.deepEqual(problems, []);
    }
    assert.deepEqual(found, [], 'serious or critical axe violations');
  });
});
