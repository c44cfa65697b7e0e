// The browser pages through the gateway, under the gateway's headers: the SPA
// (signed in through its form, the queue, a ticket opened, the dashboard's
// ECharts canvases), GraphiQL at /graphql and Swagger UI at /api/docs, in
// Debian's Chromium. Fails on any Content-Security-Policy violation the
// pages report (securitypolicyviolation events and "Refused to …" console
// messages) and on uncaught page errors. Called by deploy/test-gateway.sh.
//
// usage: NODE_PATH=tests/node/node_modules node deploy/tools/gateway_browser.mjs <gateway base URL> <admin password>
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'tests/node/package.json'));
const { chromium } = require('playwright-core');

const [base, password] = process.argv.slice(2);
const problems = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
  // Every violation, including those of workers and of styles set by script.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  const page = await context.newPage();
  let where = '';
  page.on('console', (m) => {
    const text = m.text();
    if (/CSP violation|Content Security Policy|Refused to/i.test(text)) problems.push(`${where}: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`${where}: page error: ${e.message}`));

  where = 'SPA';
  await page.goto(`${base}/tickets`);
  await page.locator('input[autocomplete="username"], input[name="username"]').first().fill('admin');
  await page.locator('input[type="password"]').first().fill(password);
  await page.locator('button[type="submit"]').first().click();
  await page.getByRole('grid').first().waitFor({ timeout: 20000 });
  const firstTicket = page.getByRole('row').nth(1);
  if (await firstTicket.count()) {
    await firstTicket.click();
    await page.waitForTimeout(1000);
  }
  where = 'SPA dashboard';
  await page.goto(`${base}/dashboard`);
  await page.locator('canvas').first().waitFor({ timeout: 20000 });
  await page.waitForTimeout(1000);

  where = 'GraphiQL';
  await page.goto(`${base}/graphql`);
  await page.locator('.graphiql-container').first().waitFor({ timeout: 20000 });
  await page.locator('.monaco-editor').first().waitFor({ timeout: 20000 });
  await page.waitForTimeout(1500);

  where = 'Swagger UI';
  await page.goto(`${base}/api/docs`);
  await page.locator('.swagger-ui .info').first().waitFor({ timeout: 20000 });
  await page.waitForTimeout(500);
} catch (e) {
  problems.push(`the pages did not render: ${e.message}`);
} finally {
  await browser.close();
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('SPA, GraphiQL and Swagger UI render through the gateway without a CSP violation');
