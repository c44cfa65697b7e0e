// Screenshots of every screen, for looking at them (not a test): Debian's
// Chromium through playwright-core against a running `ticketera serve`.
//   BASE=http://127.0.0.1:8080 USER=ana PASS=… node scripts/screenshots.mjs
// Writes shots/*.png and prints the browser console's errors.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE ?? 'http://127.0.0.1:8080';
const USER = process.env.USER_NAME ?? 'ana';
const PASS = process.env.PASS ?? 'analyst-pass-1234';
const out = new URL('../shots/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const errors = [];
async function newPage(viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport, locale: 'es-ES', timezoneId: 'Europe/Madrid' });
  const page = await ctx.newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return page;
}
const shot = (page, name) => page.screenshot({ path: `${out}${name}.png` });

const page = await newPage();
try {
await page.goto(`${BASE}/`);
await page.getByLabel('Usuario').waitFor();
await shot(page, '01-signin');
await page.getByLabel('Usuario').fill(USER);
await page.getByLabel('Contraseña').fill('wrong-password');
await page.getByRole('button', { name: 'Entrar' }).click();
await page.getByRole('alert').waitFor();
await shot(page, '02-signin-error');
await page.getByLabel('Contraseña').fill(PASS);
await page.getByRole('button', { name: 'Entrar' }).click();
await page.getByRole('grid', { name: 'Tickets' }).waitFor();
await page.getByRole('row', { name: /SOC-/ }).first().waitFor();
await page.waitForTimeout(800);
await shot(page, '03-queue');
await page.keyboard.press('j');
await page.keyboard.press('j');
await page.keyboard.press('x');
await page.keyboard.press('j');
await page.keyboard.press('x');
await page.waitForTimeout(200);
await shot(page, '04-queue-selection');
await page.keyboard.press('?');
await page.getByRole('dialog').waitFor();
await shot(page, '05-shortcuts');
await page.keyboard.press('Escape');
await page.keyboard.press('Control+k');
await page.getByRole('combobox', { name: 'Escribe un comando o un número de ticket' }).fill('3');
await shot(page, '06-palette');
await page.keyboard.press('Enter');
await page.getByRole('heading', { level: 1, name: /SOC-3/ }).waitFor();
await page.waitForTimeout(500);
await shot(page, '07-ticket');
await page.setViewportSize({ width: 1280, height: 2000 });
await shot(page, '08-ticket-full');
await page.setViewportSize({ width: 820, height: 1180 });
await page.goto(`${BASE}/tickets?status=NEW,IN_PROGRESS&severity=CRITICAL,HIGH`);
await page.getByRole('row', { name: /SOC-/ }).first().waitFor();
await shot(page, '09-queue-tablet');
await page.getByRole('combobox', { name: 'Idioma' }).first().selectOption('en');
await page.setViewportSize({ width: 1280, height: 800 });
await page.waitForTimeout(300);
await shot(page, '10-queue-en');

} catch (e) {
  await shot(page, 'failure');
  console.error(String(e).split('\n')[0]);
  process.exitCode = 1;
}
await browser.close();
console.log(errors.length ? `console errors:\n${errors.join('\n')}` : 'no console errors');
