// GraphiQL at /graphql: the server serves the page built from web/ (no
// token needed for static files), Chromium renders it, a query and a
// subscription run through it with a token typed into the headers editor, and
// the page never talks to any host but the server.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT, login, openTicket, startServer } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('GraphiQL page', () => {
  let server;
  let token;
  let browser;

  before(async () => {
    assert.ok(
      existsSync(join(REPO_ROOT, 'web/dist/graphiql/index.html')),
      'web/dist/graphiql is not built: run `npm ci && npm run build` in web/',
    );
    // GraphiQL's docs and completion need introspection (off by default).
    server = await startServer({ env: { TICKETERA_GRAPHQL_INTROSPECTION: 'true' } });
    token = await login(server);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('GET /graphql from a browser serves the page; its assets come from /graphql/assets/ without a token', async () => {
    const res = await fetch(server.graphqlUrl, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<div id="graphiql">/);
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length >= 2, `script and stylesheet referenced: ${refs}`);
    for (const ref of refs) {
      assert.match(ref, /^\/graphql\/assets\//, 'assets are served from this origin under /graphql/assets/');
      const asset = await fetch(new URL(ref, server.base));
      assert.equal(asset.status, 200, ref);
      const type = asset.headers.get('content-type') ?? '';
      if (ref.endsWith('.js')) assert.match(type, /^(text|application)\/javascript/, `${ref}: ${type}`);
      if (ref.endsWith('.css')) assert.match(type, /^text\/css/, `${ref}: ${type}`);
      await asset.arrayBuffer();
    }
    const missing = await fetch(`${server.base}/graphql/assets/no-such-file.js`);
    assert.equal(missing.status, 404);
  });

  test('Chromium renders GraphiQL; a query and a subscription run; no request leaves the server', { timeout: 120_000 }, async (t) => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/test does)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext();
    const page = await context.newPage();

    const urls = [];
    const pageErrors = [];
    context.on('request', (r) => urls.push(r.url()));
    page.on('request', (r) => urls.push(r.url()));
    page.on('websocket', (ws) => urls.push(ws.url()));
    page.on('worker', (w) => urls.push(w.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const graphqlPosts = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/graphql') graphqlPosts.push(r);
    });

    const nav = await page.goto(`${server.base}/graphql`, { waitUntil: 'load' });
    assert.equal(nav.status(), 200);
    await page.locator('.graphiql-container').waitFor({ timeout: 30_000 });
    const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
    await queryEditor.waitFor({ timeout: 30_000 });
    const headersEditor = page.locator('.graphiql-editor-tool .monaco-editor').last();
    await headersEditor.waitFor({ timeout: 30_000 });
    assert.match(await text(headersEditor), /"Authorization":\s*"Bearer "/, 'headers editor prefilled');

    // A query with the admin's token typed into the headers editor.
    const ticket = await openTicket(server, token, { title: 'Seen through GraphiQL' });
    await replaceEditorText(page, headersEditor, JSON.stringify({ Authorization: `Bearer ${token}` }));
    await replaceEditorText(page, queryEditor, '{ tickets(first: 5) { edges { node { number title } } } }');
    const response = page.locator('.graphiql-response .monaco-editor');
    await runAndWait(page, response, ticket.number);
    const sent = graphqlPosts.at(-1);
    assert.equal(sent.headers().authorization, `Bearer ${token}`, 'the headers editor’s token went with the query');

    // A subscription: GraphiQL connects to ws://<host>/graphql/ws with the
    // headers as the connection_init payload.
    await replaceEditorText(page, queryEditor, 'subscription { ticketEvents { ticketId type } }');
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.locator('.graphiql-execute-button').click();
    await waitFor(() => sockets.length > 0, 'GraphiQL to open a WebSocket', 10_000);
    assert.equal(sockets[0].url(), `${server.wsUrl}`);
    const opened = await repeatUntilShown(response, () => openTicket(server, token, { title: 'Streamed to GraphiQL' }));
    assert.match(await text(response), new RegExp(opened.id));

    await page.screenshot({ path: join(process.env.TMPDIR ?? '/tmp', 'ticketera-graphiql.png') });
    t.diagnostic(`requests made by the page: ${new Set(urls).size}`);

    assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
    const foreign = [...new Set(urls)].filter((u) => {
      const url = new URL(u);
      if (url.protocol === 'data:' || url.protocol === 'blob:') return false;
      return url.host !== server.host;
    });
    assert.deepEqual(foreign, [], 'requests to hosts other than the server');
  });
});

async function text(editor) {
  // Monaco renders spaces as U+00A0.
  return (await editor.locator('.view-lines').innerText()).replaceAll('\u00a0', ' ');
}

async function replaceEditorText(page, editor, value) {
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(value);
  await waitFor(async () => (await text(editor)).replace(/\s+/g, '') === value.replace(/\s+/g, ''), `the editor to hold ${value}`, 5_000);
  // GraphiQL parses the editors' contents after a short debounce.
  await new Promise((r) => setTimeout(r, 500));
}

async function runAndWait(page, response, expected) {
  await page.locator('.graphiql-execute-button').click();
  await waitFor(async () => (await text(response)).includes(expected), `the response to show ${expected}`, 15_000, async () => text(response));
}

async function repeatUntilShown(response, action) {
  for (let i = 0; i < 20; i++) {
    const done = await action();
    try {
      await waitFor(async () => (await text(response)).includes(done.id), 'the event in the response', 1_000);
      return done;
    } catch {
      // the subscription may not be live yet
    }
  }
  throw new Error(`no event reached GraphiQL; response shows: ${await text(response)}`);
}

async function waitFor(fn, what, timeoutMs, show) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${show ? `; shows: ${await show()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
