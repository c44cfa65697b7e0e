// The auditors' screens of the ticket page in Chromium against a real
// `ticketera serve`: the paged event timeline, time travel over versions
// and instants (each version's fields checked against what `ticketera replay
// --version N` prints for it), read only in the past, every event's request
// id as the server stored it, the JSON export, the auditor's 403 on a command, the live notice's actor, and axe on the
// timeline and the time-travel view in es and en. Screenshots go to
// target/spa-screenshots/ (audit-*.png).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BINARY, PG_BASE, command, comment, eventually, graphql, login, openTicket } from './helpers.mjs';
import { UI, axeSerious, createUser, screenshot, signIn, spaSuite } from './spa-helpers.mjs';

const STATUS = {
  es: { NEW: 'Nuevo', IN_PROGRESS: 'En progreso', ON_HOLD: 'En espera', RESOLVED: 'Resuelto', CLOSED: 'Cerrado' },
  en: { NEW: 'New', IN_PROGRESS: 'In progress', ON_HOLD: 'On hold', RESOLVED: 'Resolved', CLOSED: 'Closed' },
};
const SEVERITY = { es: { CRITICAL: 'Crítica', HIGH: 'Alta', MEDIUM: 'Media', LOW: 'Baja' } };
// Every command button and form of the ticket page, in Spanish.
const COMMAND_BUTTONS = [
  'Asignarme',
  'Asignar a…',
  'Desasignar',
  'Empezar',
  'Poner en espera',
  'Reanudar',
  'Resolver',
  'Marcar como duplicado',
  'Cerrar',
  'Reabrir',
  'Cambiar severidad',
  'Comentar',
  'Añadir etiqueta',
  'Añadir observable',
];

/** `ticketera replay` of the test server's database: the ticket as JSON. */
function replay(server, ticket, args = []) {
  const out = execFileSync(BINARY, ['replay', ...args, ticket], {
    env: { ...process.env, DATABASE_URL: `${PG_BASE}/${server.database}`, RUST_LOG: 'error' },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

describe('auditors SPA: timeline, time travel, export', () => {
  let server;
  let admin;
  let analyst;
  let analystToken;
  let auditor;
  let ticket;
  const { open } = spaSuite({
    ready: (s) => {
      ({ server, admin } = s);
    },
  });
  let versions = [];
  let holdAt;
  // The x-request-id the severity change (version 4) is sent with.
  const severityRequestId = randomUUID();
  /** sequence → the request id the server stored (GraphQL TicketEvent.requestId). */
  let storedRequestIds;

  before(async () => {
    analyst = await createUser(server, admin, 'analyst', 'ana');
    analystToken = await login(server, analyst.username, analyst.password);
    auditor = await createUser(server, admin, 'auditor', 'aud');

    // Ten changes after the opening, by two people.
    ticket = await openTicket(server, admin, { title: 'Exfiltración DNS sospechosa', severity: 'HIGH', description: 'Consultas TXT largas' });
    const id = ticket.id;
    await command(server, analystToken, id, 'assign', { assignee: analyst.username });
    await command(server, analystToken, id, 'start');
    await command(server, analystToken, id, 'severity', { severity: 'CRITICAL', reason: 'host de nóminas' }, { 'x-request-id': severityRequestId });
    await command(server, analystToken, id, 'tags', { tags: ['dns', 'exfiltracion'] });
    await comment(server, analystToken, id, 'Bloqueado el dominio en el proxy.');
    await command(server, analystToken, id, 'hold', { reason: 'esperando al equipo de red' });
    // A gap of whole seconds after the hold: an instant in it (picked to the second) is version 7.
    await sleep(2500);
    await command(server, analystToken, id, 'resume');
    await command(server, admin, id, 'observables', { kind: 'DOMAIN', value: 'exfil.example' });
    await comment(server, admin, id, 'Revisado por el responsable.');
    await command(server, analystToken, id, 'resolve', { resolution: 'TRUE_POSITIVE', summary: 'Contenido' });
    await eventually(
      async () => (await graphql(server, admin, 'query($n: String!) { ticket(number: $n) { version } }', { n: ticket.number })).data?.ticket?.version === 11,
      { what: `${ticket.number} at version 11 in the read model` },
    );
    versions = Array.from({ length: 11 }, (_, i) => replay(server, ticket.number, ['--version', String(i + 1)]));
    const history = await graphql(server, admin, 'query($id: ID!) { ticketHistory(id: $id) { sequence type recordedAt requestId } }', { id });
    storedRequestIds = new Map(history.data.ticketHistory.map((e) => [e.sequence, e.requestId]));
    assert.equal(storedRequestIds.get(4), severityRequestId, 'the severity change keeps the x-request-id it was sent with');
    for (const [seq, rid] of storedRequestIds) assert.ok(rid, `event ${seq} has a request id`);
    holdAt = history.data.ticketHistory.find((e) => e.sequence === 7).recordedAt;
    assert.equal(history.data.ticketHistory.find((e) => e.sequence === 7).type, 'TicketPutOnHold');
  });

  const heading = (page) => page.getByRole('heading', { level: 1, name: new RegExp(`^${ticket.number}\\b`) });
  const detail = (page, label) => page.getByRole('region', { name: 'Detalles' }).locator('dt', { hasText: new RegExp(`^${label}$`) }).locator('xpath=following-sibling::dd');
  const banner = (page) => page.getByTestId('as-of-banner');
  /** sequence → the request id each timeline entry shows (the dd after the dt `label`). */
  const shownRequestIds = async (timeline, label) =>
    new Map(
      await timeline.locator('li[data-sequence]').evaluateAll(
        (els, label) =>
          els.map((li) => {
            const dt = [...li.querySelectorAll('dt')].find((d) => d.textContent.trim() === label);
            return [Number(li.dataset.sequence), dt ? dt.nextElementSibling.textContent.trim() : null];
          }),
        label,
      ),
    );

  async function expectFields(page, v, lang = 'es') {
    const want = versions[v - 1];
    assert.equal(want.version, v);
    assert.equal((await detail(page, 'Estado').innerText()).trim(), STATUS[lang][want.status], `status of version ${v}`);
    assert.equal((await detail(page, 'Severidad').innerText()).trim(), SEVERITY.es[want.severity], `severity of version ${v}`);
    const assignee = want.assignee === null ? 'Nadie' : want.assignee === analyst.username ? analyst.displayName : want.assignee;
    assert.equal((await detail(page, 'Asignado a').innerText()).trim(), assignee, `assignee of version ${v}`);
    assert.equal((await detail(page, 'Versión').innerText()).trim(), String(v));
    const tags = await page.getByRole('region', { name: 'Etiquetas' }).getByRole('listitem').allInnerTexts();
    assert.deepEqual(tags.map((s) => s.trim()).sort(), [...want.tags].sort(), `tags of version ${v}`);
    const comments = await page.getByRole('region', { name: /^Comentarios/ }).getByRole('listitem').count();
    assert.equal(comments, want.comments.length, `comments of version ${v}`);
  }

  async function noMutatingControl(page, where) {
    assert.equal(await page.locator('textarea').count(), 0, `no textarea ${where}`);
    for (const name of COMMAND_BUTTONS) {
      const enabled = await page.getByRole('button', { name, exact: true }).filter({ hasNot: page.locator('[disabled]') }).count();
      assert.equal(enabled, 0, `no "${name}" button ${where}`);
    }
    assert.equal(await page.getByRole('textbox', { name: /etiqueta|observable|Valor/i }).count(), 0, `no tag or observable input ${where}`);
  }

  test('the auditor reads the timeline, steps through every version as replay prints it, picks an instant, exports', { timeout: 180_000 }, async () => {
    const { page, problems } = await open();
    await signIn(page, server, auditor);
    await page.goto(`${server.base}/tickets/${ticket.number}`);
    await heading(page).waitFor();

    // The timeline: newest first, every event, localized summaries, the field changes.
    const timeline = page.getByRole('list', { name: 'Historial de eventos' });
    await timeline.locator('li[data-sequence="1"]').waitFor();
    const seqs = await timeline.locator('li[data-sequence]').evaluateAll((els) => els.map((e) => Number(e.dataset.sequence)));
    assert.deepEqual(seqs, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const hold = timeline.locator('li[data-sequence="7"]');
    assert.match(await hold.innerText(), new RegExp(`${analyst.username} puso el ticket en espera: esperando al equipo de red`));
    assert.match(await hold.innerText(), /Estado\s+En progreso\s*→\s*En espera/);
    const sev = timeline.locator('li[data-sequence="4"]');
    assert.match(await sev.innerText(), /cambió la severidad de Alta a Crítica: host de nóminas/);
    assert.match(await sev.innerText(), /Canal:\s*api/);
    // Every event's request id, straight from the timeline (no button, no export), as stored; and both instants.
    assert.deepEqual(await shownRequestIds(timeline, 'Id de petición:'), storedRequestIds);
    assert.match(await sev.innerText(), new RegExp(`Id de petición:\\s*${severityRequestId}`));
    assert.equal(await page.getByRole('button', { name: /ids de petición/ }).count(), 0, 'no button to load request ids');
    // To the second; es-ES does not pad the hour ("9:23:10" before ten).
    assert.match(await sev.innerText(), /Registrado:\s*[^\n]*\d{1,2}:\d{2}:\d{2}/);
    assert.match(await sev.innerText(), /Ocurrido:/);
    await page.getByLabel('Orden').selectOption('oldest');
    await timeline.locator('li[data-sequence]').first().and(page.locator('[data-sequence="1"]')).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cargar más eventos' }).count(), 0, 'eleven events are one page');
    await screenshot(page, 'audit-es-01-timeline', { fullPage: true });
    assert.deepEqual(await axeSerious(page), [], 'axe on the timeline (es)');
    await noMutatingControl(page, 'for the auditor now');

    // Time travel: first version, then each one with the stepper.
    await page.getByRole('button', { name: 'Primera versión' }).click();
    for (let v = 1; v <= 10; v++) {
      await page.locator(`[data-testid="as-of-banner"][data-version="${v}"]`).waitFor();
      assert.match(await banner(page).innerText(), new RegExp(`^Viendo la versión ${v} de 11, tal como estaba el `));
      assert.equal(new URL(page.url()).searchParams.get('version'), String(v));
      await expectFields(page, v);
      if (v === 4) {
        await screenshot(page, 'audit-es-02-time-travel-v4', { fullPage: true });
        assert.deepEqual(await axeSerious(page), [], 'axe on the time-travel view (es)');
        const diff = page.getByRole('region', { name: 'Diferencias con el presente' });
        assert.match(await diff.getByRole('row', { name: /^Estado/ }).innerText(), /En progreso\s+Resuelto/);
        await noMutatingControl(page, 'in the past');
      }
      await page.getByRole('button', { name: 'Versión siguiente' }).click();
    }
    // The last step is now: no banner, no ?version.
    await page.waitForURL((u) => !u.searchParams.has('version'));
    assert.equal(await banner(page).count(), 0);
    await expectFields(page, 11);

    // The slider is keyboard operable.
    const slider = page.getByRole('slider', { name: /Versión del ticket/ });
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    await page.locator('[data-testid="as-of-banner"][data-version="10"]').waitFor();
    await page.keyboard.press('Home');
    await page.locator('[data-testid="as-of-banner"][data-version="1"]').waitFor();
    await expectFields(page, 1);

    // A pasted link to an instant between the hold (7) and the resume (8).
    const between = new Date(new Date(holdAt).getTime() + 1000);
    const local = await page.evaluate((iso) => {
      const d = new Date(iso);
      const p = (n) => String(n).padStart(2, '0');
      return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, between.toISOString());
    // Typed as a Spanish analyst reads it: day first, a 24-hour clock.
    const field = page.getByLabel('Fecha y hora', { exact: true });
    assert.equal(await field.getAttribute('placeholder'), 'dd/mm/aaaa hh:mm:ss');
    await field.fill('31/02/2026 10:00');
    await page.getByRole('button', { name: 'Ver en esa fecha' }).click();
    await page.getByRole('alert').filter({ hasText: 'escríbela como dd/mm/aaaa hh:mm:ss' }).waitFor();
    await field.fill(local);
    await page.getByRole('button', { name: 'Ver en esa fecha' }).click();
    await page.locator('[data-testid="as-of-banner"][data-version="7"]').waitFor();
    const at = new URL(page.url()).searchParams.get('at');
    assert.ok(at, 'the instant is in the URL');
    assert.deepEqual(replay(server, ticket.number, ['--at', at]).version, 7);
    await expectFields(page, 7);
    await screenshot(page, 'audit-es-03-time-travel-at', { fullPage: true });
    assert.deepEqual(await axeSerious(page), [], 'axe on the time-travel view by instant (es)');

    // The same link opened afresh.
    await page.goto(`${server.base}/tickets/${ticket.number}?at=${encodeURIComponent(at)}`);
    await page.locator('[data-testid="as-of-banner"][data-version="7"]').waitFor();
    // A bad instant says so.
    await page.goto(`${server.base}/tickets/${ticket.number}?at=ayer`);
    await page.getByRole('alert').filter({ hasText: 'La fecha «ayer» no es válida' }).waitFor();
    await page.getByRole('link', { name: 'Volver al presente' }).click();
    await page.waitForURL((u) => u.search === '');
    await heading(page).waitFor();

    // Export: the stored history, named after the number.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Exportar historial (JSON)' }).click()]);
    assert.equal(download.suggestedFilename(), `${ticket.number}-history.json`);
    const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(doc.number, ticket.number);
    assert.deepEqual(doc.events.map((e) => e.sequence), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(new Map(doc.events.map((e) => [e.sequence, e.metadata.correlation_id])), storedRequestIds, 'the export stores the same request ids');

    assert.deepEqual(problems, []);
  });

  test('the auditor is refused a command over REST (403)', async () => {
    const token = await login(server, auditor.username, auditor.password);
    for (const [action, body] of [
      ['comments', { body: 'no' }],
      ['reopen', { reason: 'no' }],
      ['severity', { severity: 'LOW', reason: 'no' }],
    ]) {
      const res = await fetch(`${server.base}/api/v1/tickets/${ticket.id}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 403, `${action} as the auditor`);
    }
  });

  test('an analyst in the past has no command; now, the live notice names who changed the ticket', { timeout: 120_000 }, async () => {
    const t2 = await openTicket(server, admin, { title: 'Escaneo de puertos', severity: 'LOW' });
    await eventually(async () => (await graphql(server, admin, 'query($n: String!) { ticket(number: $n) { id } }', { n: t2.number })).data?.ticket);
    const { page } = await open();
    await signIn(page, server, analyst);
    await page.goto(`${server.base}/tickets/${t2.number}`);
    await page.getByRole('button', { name: 'Asignarme', exact: true }).waitFor();
    const lead = await createUser(server, admin, 'lead', 'lead');
    const leadToken = await login(server, lead.username, lead.password);
    await comment(server, leadToken, t2.id, 'mirando');
    await page.getByRole('status').filter({ hasText: `Actualizado en vivo por ${lead.username}` }).waitFor({ timeout: 20_000 });
    await page.goto(`${server.base}/tickets/${t2.number}?version=1`);
    await page.locator('[data-testid="as-of-banner"][data-version="1"]').waitFor();
    await noMutatingControl(page, 'for an analyst in the past');
  });

  test('the timeline pages: 50 events, then "load more"', { timeout: 120_000 }, async () => {
    const t3 = await openTicket(server, admin, { title: 'Muchos comentarios', severity: 'MEDIUM' });
    for (let i = 0; i < 60; i++) await comment(server, admin, t3.id, `nota ${i}`);
    const { page } = await open();
    await signIn(page, server, auditor);
    await page.goto(`${server.base}/tickets/${t3.number}`);
    const timeline = page.getByRole('list', { name: 'Historial de eventos' });
    await timeline.locator('li[data-sequence="61"]').waitFor();
    assert.equal(await timeline.locator('li[data-sequence]').count(), 50);
    await page.getByRole('button', { name: 'Cargar más eventos' }).click();
    await timeline.locator('li[data-sequence="1"]').waitFor();
    assert.equal(await timeline.locator('li[data-sequence]').count(), 61);
    assert.equal(await page.getByRole('button', { name: 'Cargar más eventos' }).count(), 0);
  });

  test('axe on the timeline and the time-travel view in English', { timeout: 120_000 }, async () => {
    const { page } = await open({ lang: 'en' });
    await signIn(page, server, auditor, { lang: 'en' });
    await page.goto(`${server.base}/tickets/${ticket.number}`);
    const timeline = page.getByRole('list', { name: 'Event history' });
    await timeline.locator('li[data-sequence="1"]').waitFor();
    assert.deepEqual(await shownRequestIds(timeline, 'Request id:'), storedRequestIds);
    await screenshot(page, 'audit-en-01-timeline', { fullPage: true });
    assert.deepEqual(await axeSerious(page), [], 'axe on the timeline (en)');
    await page.goto(`${server.base}/tickets/${ticket.number}?version=7`);
    await page.locator('[data-testid="as-of-banner"][data-version="7"]').waitFor();
    assert.match(await banner(page).innerText(), /^Viewing version 7 of 11, as it was on /);
    assert.match(await page.getByRole('region', { name: 'Event history' }).locator('li[data-sequence="7"]').innerText(), /put the ticket on hold: esperando al equipo de red/);
    await screenshot(page, 'audit-en-02-time-travel', { fullPage: true });
    assert.deepEqual(await axeSerious(page), [], 'axe on the time-travel view (en)');
    void UI;
  });
});
