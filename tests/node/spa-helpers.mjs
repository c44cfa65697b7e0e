// Shared by the SPA's browser tests (spa*.test.mjs) and its benchmarks
// (bench/spa*.mjs): Debian's Chromium through playwright-core, a test file's
// server and browser, users of each role, signing in through the form, axe,
// screenshots, syslog over UDP.
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { after, before, test } from 'node:test';
import { REPO_ROOT, login, startServer } from './helpers.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the screens' screenshots go (git-ignored, kept as artifacts). */
export const SCREENSHOT_DIR = process.env.SPA_SCREENSHOT_DIR ?? join(REPO_ROOT, 'target/spa-screenshots');

/** The words of the UI the tests click on, per language (web/app/src/i18n). */
export const UI = {
  es: {
    username: 'Usuario',
    password: 'Contraseña',
    submit: 'Entrar',
    invalid: 'Usuario o contraseña incorrectos.',
    signedOut: 'Has cerrado la sesión.',
    signOut: 'Cerrar sesión',
    grid: 'Tickets',
    newTicket: 'Nuevo ticket',
    title: 'Título',
    severity: 'Severidad',
    openTicket: 'Abrir ticket',
    openDialog: 'Abrir un ticket',
    assignToMe: 'Asignarme',
    start: 'Empezar',
    resolve: 'Resolver',
    close: 'Cerrar',
    summary: 'Resumen',
    resolution: 'Resolución',
    search: 'Buscar',
    reload: 'Recargar el ticket',
    palette: 'Paleta de comandos',
    paletteInput: 'Escribe un comando o un número de ticket',
    shortcuts: 'Atajos de teclado',
    language: 'Idioma',
    status: { NEW: 'Nuevo', IN_PROGRESS: 'En progreso', RESOLVED: 'Resuelto', CLOSED: 'Cerrado' },
    selected1: '1 seleccionado',
    conflict: (actor) => new RegExp(`${actor} cambió este ticket mientras tanto`),
  },
  en: {
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    signOut: 'Sign out',
    grid: 'Tickets',
    newTicket: 'New ticket',
    openDialog: 'Open a ticket',
    resolve: 'Resolve',
    palette: 'Command palette',
    paletteInput: null, // read from the page
    shortcuts: 'Keyboard shortcuts',
    language: 'Language',
  },
};

export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/test does)`);
  if (!existsSync(join(REPO_ROOT, 'web/dist/index.html'))) {
    throw new Error('web/dist/index.html is missing: run `npm ci && npm run build` in web/');
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A browser context at 1280×800 in Madrid's zone; the page's uncaught errors
 * and its requests to any host but the server are collected in `problems`.
 */
export async function newContext(browser, server, { lang, viewport = { width: 1280, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'es-ES', timezoneId: 'Europe/Madrid' });
  if (lang) {
    await context.addInitScript((l) => {
      try {
        if (!localStorage.getItem('ticketera.lang')) localStorage.setItem('ticketera.lang', l);
      } catch {
        // no storage on about:blank
      }
    }, lang);
  }
  const problems = [];
  const host = new URL(server.base).host;
  context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.host !== host) problems.push(`request to ${r.url()}`);
  });
  context.on('page', (p) => p.on('pageerror', (e) => problems.push(`page error: ${e.message}`)));
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems };
}

/** A user of `role` created by the admin over REST; returns {username, password, displayName}. */
export async function createUser(server, adminToken, role = 'analyst', prefix = role) {
  const username = `${prefix}_${randomUUID().slice(0, 8)}`;
  const password = `pw-${randomUUID()}`;
  const displayName = `${prefix[0].toUpperCase()}${prefix.slice(1)} ${username.slice(-4)}`;
  const res = await fetch(`${server.base}/api/v1/admin/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, role, display_name: displayName }),
  });
  if (res.status !== 201) throw new Error(`creating ${username}: ${res.status} ${await res.text()}`);
  return { username, password, displayName };
}

/** Signs in through the form (the page is at the sign-in screen or about to be); waits for the queue. */
export async function signIn(page, server, user, { lang = 'es', goto = true } = {}) {
  const ui = UI[lang];
  if (goto) await page.goto(`${server.base}/tickets`);
  await page.getByLabel(ui.username, { exact: true }).fill(user.username);
  await page.getByLabel(ui.password, { exact: true }).fill(user.password);
  await page.getByRole('button', { name: ui.submit, exact: true }).click();
  await page.getByRole('grid', { name: ui.grid }).waitFor();
}

/** The queue's row of a ticket (rows are named by their content, which starts with the number). */
export function row(page, number) {
  return page.getByRole('row', { name: new RegExp(`\\b${number}\\b`) });
}

/**
 * axe with the WCAG 2.0/2.1/2.2 A and AA tags; returns the serious and
 * critical violations as one line each (empty when there are none).
 */
export async function axeSerious(page, { include } = {}) {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']);
  if (include) builder = builder.include(include);
  const result = await builder.analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.help}): ${v.nodes
          .slice(0, 5)
          .map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`)
          .join(' | ')}${v.nodes.length > 5 ? ` (+${v.nodes.length - 5} more)` : ''}`,
    );
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, ...opts });
  return path;
}

/** The server's syslog UDP address, from its `syslog on udp://host:port …` line. */
export function syslogUdp(server) {
  const m = server.stdout().match(/syslog on udp:\/\/(\S+):(\d+)/);
  if (!m) throw new Error(`the server printed no syslog address:\n${server.stdout()}`);
  return { host: m[1], port: Number(m[2]) };
}

/** Sends one syslog datagram to the server. */
export async function sendUdp(server, line) {
  const { host, port } = syslogUdp(server);
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise((resolve, reject) => socket.send(Buffer.from(line), port, host, (e) => (e ? reject(e) : resolve())));
  } finally {
    socket.close();
  }
}

/**
 * A FortiGate IPS alert (fortigate.log:1 of the shared samples: the vendor's
 * key=value layout, documentation addresses) with the source address, attack
 * name and times given, so each test's alert opens a ticket of its own.
 */
export function fortigateAlert({ srcip, attack = 'Apache.Log4j.Error.Log.Remote.Code.Execution', now = new Date() }) {
  const date = now.toISOString().slice(0, 10);
  const time = now.toISOString().slice(11, 19);
  const eventtime = BigInt(now.getTime()) * 1_000_000n;
  return (
    `<185>date=${date} time=${time} devname="FGT-EDGE-01" devid="FG200F0000000001" eventtime=${eventtime} tz="+0000" ` +
    `logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" vd="root" severity="critical" ` +
    `srcip=${srcip} srccountry="Reserved" dstip=10.20.1.15 srcintf="wan1" dstintf="dmz" sessionid=4410012 action="dropped" ` +
    `proto=6 service="HTTPS" policyid=12 attack="${attack}" srcport=51544 dstport=443 direction="outgoing" attackid=51006 ` +
    `profile="default" ref="http://www.fortinet.com/ids/VID51006" incidentserialno=120034561 msg="applications3: ${attack}" ` +
    `crscore=50 craction=4096 crlevel="critical"`
  );
}

/**
 * What every SPA test file sets up inside its `describe`: one server (and
 * the admin's token) and one browser for the file, every context closed at
 * the end; `open` for a new context; `uiTest`, a test whose pages are
 * photographed when it fails (`target/spa-screenshots/<failedPrefix>…`).
 * `ready({ server, admin, browser })` runs once they are up, before the
 * file's own `before` hooks.
 */
export function spaSuite({ timeout = 90_000, failedPrefix = 'failed-', ready } = {}) {
  let server;
  let browser;
  const contexts = [];
  let current = [];
  before(async () => {
    server = await startServer();
    const admin = await login(server);
    browser = await launch();
    await ready?.({ server, admin, browser });
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    console.log(`# SPA screenshots: ${SCREENSHOT_DIR}`);
  });
  async function open(opts) {
    const c = await newContext(browser, server, opts);
    contexts.push(c.context);
    current.push(c.page);
    return c;
  }
  function uiTest(name, opts, fn) {
    if (typeof opts === 'function') [opts, fn] = [{}, opts];
    test(name, { timeout, ...opts }, async (t) => {
      current = [];
      try {
        await fn(t);
      } catch (e) {
        const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
        for (const [i, p] of current.entries()) {
          const path = await screenshot(p, `${failedPrefix}${slug}-${i}`).catch(() => null);
          if (path) t.diagnostic(`screenshot of the failure: ${path} (${p.url()})`);
        }
        throw e;
      }
    });
  }
  return { open, uiTest };
}
