// The README's screenshots (not a test): the queue with a few realistic
// tickets and a ticket page, 1280×800, in docs/screenshots/. Starts its own
// `ticketera serve` on a fresh database like the tests do.
//   node tests/node/readme-screenshots.mjs
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { command, comment, eventually, graphql, login, openTicket, REPO_ROOT, startServer } from './helpers.mjs';
import { fortigateAlert, launch, newContext, row, sendUdp, signIn } from './spa-helpers.mjs';

const out = join(REPO_ROOT, 'docs/screenshots');
mkdirSync(out, { recursive: true });

const server = await startServer();
let browser;
try {
  const admin = await login(server);
  const user = async (username, display_name, role) => {
    const password = `pw-${randomUUID()}`;
    const res = await fetch(`${server.base}/api/v1/admin/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, role, display_name }),
    });
    if (res.status !== 201) throw new Error(`${username}: ${res.status}`);
    return { username, password, token: await login(server, username, password) };
  };
  const ana = await user('ana', 'Ana Martínez', 'lead');
  const pablo = await user('pablo', 'Pablo Sanz', 'analyst');
  const lucia = await user('lucia', 'Lucía Romero', 'analyst');

  // The CMDB, before the alert: enrichment names the assets.
  for (const asset of [
    { network: '10.20.1.15', hostname: 'web-dmz-01.corp.example', owner: 'Equipo Web', business_unit: 'Comercio electrónico', criticality: 'CRITICAL' },
    { network: '10.20.5.0/24', hostname: null, owner: 'Puestos de trabajo', business_unit: 'Oficinas Madrid', criticality: 'MEDIUM' },
  ]) {
    const res = await fetch(`${server.base}/api/v1/admin/assets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(asset),
    });
    if (res.status !== 201) throw new Error(`asset: ${res.status} ${await res.text()}`);
  }

  const tickets = [
    ['Phishing reportado: factura falsa a contabilidad', 'MEDIUM', '198.51.100.23', '10.20.3.14', pablo, ['start']],
    ['Cuenta de servicio con privilegios nuevos (svc-backup)', 'HIGH', null, '10.20.1.5', null, []],
    ['Inicio de sesión imposible: Madrid y São Paulo en 20 min', 'HIGH', '192.0.2.77', null, lucia, []],
    ['Escaneo de puertos desde Internet contra la DMZ', 'LOW', '203.0.113.201', '10.20.1.15', null, []],
    ['Exfiltración DNS sospechosa desde WS-0231', 'HIGH', '10.20.5.31', '203.0.113.99', ana, ['start']],
    ['Malware detectado en endpoint (EICAR) en WS-0412', 'MEDIUM', '10.20.5.77', '198.51.100.20', pablo, ['start', 'resolve']],
    ['Tráfico saliente a nodos TOR desde el servidor de ficheros', 'CRITICAL', '10.20.1.22', '198.51.100.77', null, []],
    ['Fuerza bruta SSH contra el bastión', 'HIGH', '203.0.113.45', '10.20.1.10', lucia, ['start']],
  ];
  for (const [title, severity, src, dst, who, steps] of tickets) {
    const t = await openTicket(server, admin, {
      title,
      severity,
      source_ip: src,
      destination_ip: dst,
      description: 'Detectado por la regla de correlación del SIEM.\n\nRevisar el host y los registros del proxy.',
    });
    let v = t.version;
    if (who) v = (await command(server, admin, t.id, 'assign', { assignee: who.username }, { 'if-match': `"${v}"` })).version;
    for (const s of steps) {
      const body = s === 'resolve' ? { resolution: 'TRUE_POSITIVE', summary: 'Equipo reimaginado.' } : {};
      v = (await command(server, who.token, t.id, s, body, { 'if-match': `"${v}"` })).version;
    }
  }
  // Two FortiGate alerts over syslog: one ticket, correlated; Ana takes it.
  await sendUdp(server, fortigateAlert({ srcip: '203.0.113.45' }));
  await sendUdp(server, fortigateAlert({ srcip: '203.0.113.45' }));
  const rich = await eventually(async () => {
    const r = await graphql(server, admin, '{ tickets(first: 1, filter: {source: [SYSLOG]}) { nodes { id number version alertCount } } }');
    const t = r.data.tickets.nodes[0];
    return t?.alertCount >= 2 ? t : null;
  }, { what: 'the syslog ticket' });
  let v = (await command(server, admin, rich.id, 'assign', { assignee: ana.username }, { 'if-match': `"${rich.version}"` })).version;
  v = (await command(server, ana.token, rich.id, 'start', {}, { 'if-match': `"${v}"` })).version;
  await comment(server, ana.token, rich.id, 'Bloqueada **203.0.113.45** en el perímetro; revisando los registros de `web-dmz-01`.');
  await command(server, ana.token, rich.id, 'observables', { kind: 'IP', value: '203.0.113.45' });
  await command(server, ana.token, rich.id, 'tags', { tags: ['log4j', 'dmz'] });

  browser = await launch();
  const { page, problems } = await newContext(browser, server);
  await signIn(page, server, { username: ana.username, password: ana.password });
  await row(page, rich.number).waitFor();
  await page.mouse.move(0, 799);
  await page.screenshot({ path: join(out, 'queue.png') });
  await page.goto(`${server.base}/tickets/${rich.number}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.getByText('web-dmz-01.corp.example').first().waitFor();
  await page.getByText('log4j', { exact: true }).first().waitFor();
  await page.screenshot({ path: join(out, 'ticket.png') });
  for (const f of ['queue.png', 'ticket.png']) console.log(`${join(out, f)}: ${(statSync(join(out, f)).size / 1024).toFixed(0)} KB`);
  if (problems.length) console.log(problems.join('\n'));
} finally {
  await browser?.close();
  await server.stop();
}
