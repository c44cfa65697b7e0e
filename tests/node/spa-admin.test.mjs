// The SPA's admin consoles in Chromium (Playwright, Debian's /usr/bin/chromium)
// against a real `ticketera serve`: users (created in the UI, signing in,
// disabled and their session ended), integration clients (the secret shown
// once, rotated, the old one refused by the token endpoint), the CMDB (create,
// search, edit, delete, a CSV import refused as a whole), dead letters (a
// malformed syslog datagram and its raw bytes), the admin area hidden from
// and refused to other roles, and axe on every console in es and en.
// Screenshots go to target/spa-screenshots/.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import { eventually, graphql, login, openTicket } from './helpers.mjs';
import { UI, axeSerious, createUser, row, screenshot, sendUdp, signIn, spaSuite } from './spa-helpers.mjs';

const es = UI.es;
// The consoles' words (web/app/src/admin/messages.ts).
const A = {
  es: {
    nav: 'Administración',
    consoles: { users: 'Usuarios', clients: 'Clientes de integración', assets: 'CMDB', deadLetters: 'Cartas muertas' },
    noPermission: 'No tienes permiso para ver esta página',
  },
  en: {
    nav: 'Administration',
    consoles: { users: 'Users', clients: 'Integration clients', assets: 'CMDB', deadLetters: 'Dead letters' },
  },
};
const PATHS = { users: '/admin/users', clients: '/admin/clients', assets: '/admin/assets', deadLetters: '/admin/dead-letters' };

describe('admin consoles of the SPA', () => {
  let server;
  let admin;
  let adminUser;
  const { open, uiTest } = spaSuite({
    timeout: 120_000,
    failedPrefix: 'failed-admin-',
    ready: (s) => {
      ({ server, admin } = s);
      adminUser = { username: 'admin', password: server.adminPassword };
    },
  });

  /** The admin, signed in through the form, on a console. */
  async function adminOn(consoleName, { lang = 'es' } = {}) {
    const c = await open({ lang });
    await signIn(c.page, server, adminUser, { lang });
    await c.page.getByRole('link', { name: A[lang].nav, exact: true }).click();
    const nav = c.page.getByRole('navigation', { name: lang === 'es' ? 'Consolas de administración' : 'Admin consoles' });
    await nav.getByRole('link', { name: A[lang].consoles[consoleName], exact: true }).click();
    await c.page.waitForURL((u) => u.pathname === PATHS[consoleName]);
    await c.page.getByRole('heading', { level: 1, name: A[lang].consoles[consoleName] === 'CMDB' ? 'CMDB' : A[lang].consoles[consoleName] }).waitFor();
    return c;
  }

  async function clientToken(clientId, secret) {
    return fetch(`${server.base}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
    });
  }

  uiTest('an admin creates an analyst, who signs in; disabled, their session ends and signing in says the account is disabled', async () => {
    const { page, problems } = await adminOn('users');
    const username = `ana_${randomUUID().slice(0, 8)}`;
    const password = `pw-${randomUUID()}`;
    await page.getByRole('button', { name: 'Nuevo usuario', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Crear un usuario' });
    await dialog.getByLabel('Usuario', { exact: true }).fill(username);
    await dialog.getByLabel('Nombre visible', { exact: true }).fill('Ana Pruebas');
    await dialog.getByLabel('Rol', { exact: true }).selectOption('analyst');
    // Too short first: the form says why and sends nothing.
    await dialog.getByLabel('Contraseña inicial', { exact: true }).fill('corta');
    await dialog.getByRole('button', { name: 'Crear usuario', exact: true }).click();
    await dialog.getByRole('alert').filter({ hasText: 'al menos 12 caracteres' }).waitFor();
    await dialog.getByLabel('Contraseña inicial', { exact: true }).fill(password);
    await screenshot(page, 'admin-es-01-create-user');
    await dialog.getByRole('button', { name: 'Crear usuario', exact: true }).click();
    const userRow = page.getByRole('row').filter({ hasText: username });
    await userRow.waitFor();
    assert.match(await userRow.innerText(), /Ana Pruebas[\s\S]*Analista[\s\S]*Activo/);

    // The same username again: the server's 409 detail, in the dialog.
    await page.getByRole('button', { name: 'Nuevo usuario', exact: true }).click();
    await dialog.getByLabel('Usuario', { exact: true }).fill(username);
    await dialog.getByLabel('Contraseña inicial', { exact: true }).fill(password);
    await dialog.getByRole('button', { name: 'Crear usuario', exact: true }).click();
    await dialog.getByRole('alert').filter({ hasText: `a user named '${username}' already exists` }).waitFor();
    await dialog.getByRole('button', { name: 'Cancelar', exact: true }).click();

    const ticket = await openTicket(server, admin, { title: `Disabled mid-session ${randomUUID().slice(0, 6)}`, severity: 'LOW' });
    const analyst = await open();
    await signIn(analyst.page, server, { username, password });
    await row(analyst.page, ticket.number).waitFor();

    await page.getByRole('button', { name: `Desactivar ${username}`, exact: true }).click();
    await userRow.filter({ hasText: 'Desactivado' }).waitFor();

    // The analyst's next request is refused: the SPA tries its refresh, which the server refuses
    // with reason account_disabled, and the sign-in says so at once.
    await row(analyst.page, ticket.number).click();
    await analyst.page.getByRole('status').filter({ hasText: 'Esta cuenta está desactivada' }).waitFor();
    await analyst.page.getByLabel(es.username, { exact: true }).fill(username);
    await analyst.page.getByLabel(es.password, { exact: true }).fill(password);
    await analyst.page.getByRole('button', { name: es.submit, exact: true }).click();
    await analyst.page.getByRole('alert').filter({ hasText: 'Esta cuenta está desactivada' }).waitFor();
    await screenshot(analyst.page, 'admin-es-02-disabled-sign-in');

    // The audit trail names who did what.
    await page.getByRole('button', { name: `Historial ${username}`, exact: true }).click();
    const audit = page.getByRole('dialog', { name: `Historial de ${username}` });
    await audit.getByRole('row').filter({ hasText: 'Desactivado' }).waitFor();
    assert.match(await audit.innerText(), /admin[\s\S]*Creado[\s\S]*Rol: Analista/);
    await screenshot(page, 'admin-es-03-user-audit');
    await audit.getByRole('button', { name: 'Cerrar', exact: true }).click();

    // Role change and password reset (the new password signs in once re-enabled).
    await page.getByRole('button', { name: `Activar ${username}`, exact: true }).click();
    await userRow.filter({ hasText: 'Activo' }).waitFor();
    await page.getByRole('button', { name: `Cambiar rol ${username}`, exact: true }).click();
    const roleDialog = page.getByRole('dialog', { name: `Cambiar el rol de ${username}` });
    await roleDialog.getByLabel('Rol', { exact: true }).selectOption('lead');
    await roleDialog.getByRole('button', { name: 'Guardar', exact: true }).click();
    await userRow.filter({ hasText: 'Responsable' }).waitFor();
    await page.getByRole('button', { name: `Restablecer contraseña ${username}`, exact: true }).click();
    const pw = page.getByRole('dialog', { name: `Restablecer la contraseña de ${username}` });
    const newPassword = `pw-${randomUUID()}`;
    await pw.getByLabel('Contraseña nueva', { exact: true }).fill(newPassword);
    await pw.getByRole('button', { name: 'Restablecer', exact: true }).click();
    await pw.waitFor({ state: 'hidden' });
    assert.equal((await login(server, username, newPassword).then(() => 'ok', (e) => String(e))), 'ok');
    await screenshot(page, 'admin-es-04-users');
    assert.deepEqual(problems, []);
    assert.deepEqual(analyst.problems, []);
  });

  uiTest('a client secret is shown once; rotating it refuses the old secret and accepts the new one', async () => {
    const { page, problems } = await adminOn('clients');
    const name = `siem-${randomUUID().slice(0, 6)}`;
    // By keyboard: the button, the dialog's first field focused, Enter submits.
    await page.getByRole('button', { name: 'Nuevo cliente', exact: true }).focus();
    await page.keyboard.press('Enter');
    const create = page.getByRole('dialog', { name: 'Crear un cliente de integración' });
    const roleSelect = create.getByLabel('Rol', { exact: true });
    assert.deepEqual(await roleSelect.locator('option').allInnerTexts(), ['Integración'], 'the only role offered');
    await page.keyboard.press('Enter');
    await create.getByRole('alert').filter({ hasText: 'Escribe un nombre para el cliente.' }).waitFor();
    assert.equal(await create.getByLabel('Nombre', { exact: true }).evaluate((el) => el === document.activeElement), true, 'focus in the name');
    await page.keyboard.type(name);
    await page.keyboard.press('Enter');

    const shown = page.getByRole('dialog', { name: 'Cliente creado' });
    await shown.getByRole('alert').filter({ hasText: 'no se volverá a mostrar' }).waitFor();
    await shown.getByRole('button', { name: 'Copiar secreto', exact: true }).waitFor();
    const clientId = (await shown.getByTestId('client-id').innerText()).trim();
    const secret = (await shown.getByTestId('client-secret').innerText()).trim();
    assert.ok(secret.length >= 20, secret);
    await screenshot(page, 'admin-es-05-client-secret');
    assert.equal((await clientToken(clientId, secret)).status, 200, 'the secret shown works');
    await shown.getByRole('button', { name: 'Ya lo he guardado', exact: true }).click();
    await shown.waitFor({ state: 'hidden' });
    assert.equal(await page.getByText(secret).count(), 0, 'the secret is gone from the page');
    assert.equal((await page.content()).includes(secret), false, 'and from the DOM');
    const clientRow = page.getByRole('row').filter({ hasText: clientId });
    await clientRow.waitFor();

    await page.getByRole('button', { name: `Rotar secreto ${name}`, exact: true }).click();
    await page.getByRole('dialog', { name: `Rotar el secreto de ${name}` }).getByRole('button', { name: 'Rotar', exact: true }).click();
    const rotated = page.getByRole('dialog', { name: 'Secreto nuevo' });
    await rotated.getByTestId('client-secret').waitFor();
    const fresh = (await rotated.getByTestId('client-secret').innerText()).trim();
    assert.notEqual(fresh, secret);
    await rotated.getByRole('button', { name: 'Ya lo he guardado', exact: true }).click();
    assert.equal((await page.content()).includes(fresh), false, 'the new secret is gone after closing too');
    assert.equal((await clientToken(clientId, secret)).status, 401, 'the old secret stops working');
    assert.equal((await clientToken(clientId, fresh)).status, 200, 'the new one works');

    await page.getByRole('button', { name: `Desactivar ${name}`, exact: true }).click();
    await clientRow.filter({ hasText: 'Desactivado' }).waitFor();
    assert.equal((await clientToken(clientId, fresh)).status, 401, 'a disabled client gets no token');
    await page.getByRole('button', { name: `Activar ${name}`, exact: true }).click();
    await clientRow.filter({ hasText: 'Activo' }).waitFor();
    await page.getByRole('button', { name: `Historial ${name}`, exact: true }).click();
    const audit = page.getByRole('dialog', { name: `Historial de ${name}` });
    await audit.getByRole('row').filter({ hasText: 'Secreto rotado' }).waitFor();
    await audit.getByRole('button', { name: 'Cerrar', exact: true }).click();
    await screenshot(page, 'admin-es-06-clients');
    assert.deepEqual(problems, []);
  });

  uiTest('CMDB: create, search, edit, delete; a CSV import with one bad line shows it and imports nothing', async () => {
    const { page, problems } = await adminOn('assets');
    const tag = randomUUID().slice(0, 6);
    const n = 1 + (parseInt(tag.slice(0, 2), 16) % 250);
    await page.getByRole('button', { name: 'Nuevo activo', exact: true }).click();
    const create = page.getByRole('dialog', { name: 'Crear un activo' });
    await create.getByLabel('Red', { exact: true }).fill('not an address');
    await create.getByRole('button', { name: 'Guardar', exact: true }).click();
    await create.getByRole('alert').filter({ hasText: "network: 'not an address' is not an IP address or a CIDR network" }).waitFor();
    await create.getByLabel('Red', { exact: true }).fill(`10.77.${n}.0/24`);
    await create.getByLabel('Host', { exact: true }).fill(`web-${tag}`);
    await create.getByLabel('Responsable', { exact: true }).fill('Equipo web');
    await create.getByLabel('Criticidad', { exact: true }).selectOption('HIGH');
    await create.getByRole('button', { name: 'Guardar', exact: true }).click();
    await create.waitFor({ state: 'hidden' });

    await page.getByRole('searchbox', { name: 'Buscar' }).fill(`web-${tag}`);
    await page.getByRole('searchbox', { name: 'Buscar' }).press('Enter');
    const assetRow = page.getByRole('row').filter({ hasText: `10.77.${n}.0/24` });
    await assetRow.waitFor();
    assert.equal(await page.getByRole('row').count(), 2, 'the header and the one match');
    await page.getByRole('button', { name: `Editar 10.77.${n}.0/24`, exact: true }).click();
    const edit = page.getByRole('dialog', { name: `Editar 10.77.${n}.0/24` });
    await edit.getByLabel('Responsable', { exact: true }).fill('');
    await edit.getByLabel('Criticidad', { exact: true }).selectOption('CRITICAL');
    await edit.getByRole('button', { name: 'Guardar', exact: true }).click();
    await assetRow.filter({ hasText: 'Crítica' }).waitFor();
    assert.doesNotMatch(await assetRow.innerText(), /Equipo web/, 'the emptied owner is cleared');

    // CSV: the third line is bad; the good ones must not be imported.
    const good1 = `10.78.${n}.0/24`;
    const good2 = `10.79.${n}.5`;
    const csv = [
      'network,hostname,owner,business_unit,criticality',
      `${good1},db-${tag},DBA,Datos,HIGH`,
      `no-such-net-${tag},bad-${tag},x,y,LOW`,
      `${good2},app-${tag},Apps,Negocio,MEDIUM`,
    ].join('\n');
    await page.getByRole('button', { name: 'Importar CSV', exact: true }).click();
    const imp = page.getByRole('dialog', { name: 'Importar activos desde CSV' });
    await imp.getByLabel('Contenido CSV', { exact: true }).fill(csv);
    await imp.getByRole('button', { name: 'Importar', exact: true }).click();
    const refusal = imp.getByRole('alert');
    await refusal.filter({ hasText: 'No se ha importado nada' }).waitFor();
    const lines = await refusal.getByRole('list', { name: 'Líneas rechazadas' }).getByRole('listitem').allInnerTexts();
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`^Línea 3: 'no-such-net-${tag}' is not an IP address or a CIDR network`));
    await screenshot(page, 'admin-es-07-csv-refused');
    for (const net of [good1, good2]) {
      const r = await graphql(server, admin, 'query($s: String) { assets(first: 5, search: $s) { totalCount } }', { s: net.split('/')[0] });
      assert.equal(r.data.assets.totalCount, 0, `${net} was not imported`);
    }
    // Fixed, from a file, it imports.
    await imp.getByLabel('Elegir un archivo CSV', { exact: true }).setInputFiles({
      name: 'activos.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv.replace(`no-such-net-${tag}`, `10.80.${n}.0/24`)),
    });
    await imp.getByText('activos.csv', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelector('dialog textarea')?.value.includes('10.80.'));
    await imp.getByRole('button', { name: 'Importar', exact: true }).click();
    await imp.waitFor({ state: 'hidden' });
    await page.getByRole('searchbox', { name: 'Buscar' }).fill(tag);
    await page.getByRole('searchbox', { name: 'Buscar' }).press('Enter');
    await page.getByRole('row').filter({ hasText: good1 }).waitFor();
    await page.getByText(/^4 activos/).waitFor();

    await page.getByRole('button', { name: `Eliminar 10.77.${n}.0/24`, exact: true }).click();
    const confirm = page.getByRole('dialog', { name: `¿Eliminar 10.77.${n}.0/24?` });
    await screenshot(page, 'admin-es-08-delete-confirm');
    await confirm.getByRole('button', { name: 'Eliminar', exact: true }).click();
    await assetRow.waitFor({ state: 'detached' });
    await page.getByText(/^3 activos/).waitFor();
    await screenshot(page, 'admin-es-09-cmdb');

    // Paging: 30 assets of one search, 25 a page; the search is in the URL.
    // Three-digit last octets: the server orders the page by the network's
    // text but compares the cursor as an address, which only agree when every
    // address has as many digits (a server bug, reported).
    const bulk = ['network,hostname,owner,business_unit,criticality'];
    for (let i = 1; i <= 30; i++) bulk.push(`10.81.${n}.${100 + i},bulk-${tag}-${String(i).padStart(2, '0')},,,LOW`);
    const imported = await fetch(`${server.base}/api/v1/admin/assets/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: bulk.join('\n'),
    });
    assert.equal(imported.status, 200, await imported.text());
    await page.getByRole('searchbox', { name: 'Buscar' }).fill(`bulk-${tag}`);
    await page.getByRole('searchbox', { name: 'Buscar' }).press('Enter');
    await page.getByText(/^30 activos · página 1/).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('q'), `bulk-${tag}`);
    assert.equal(await page.getByRole('row').count(), 26, 'a header and 25 rows');
    const pages = page.getByRole('navigation', { name: 'Páginas de activos' });
    await pages.getByRole('button', { name: 'Siguiente', exact: true }).click();
    await page.getByText(/^30 activos · página 2/).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('tbody tr').length === 5);
    assert.equal(await pages.getByRole('button', { name: 'Siguiente', exact: true }).isDisabled(), true, 'the last page');
    await pages.getByRole('button', { name: 'Anterior', exact: true }).click();
    await page.getByText(/^30 activos · página 1/).waitFor();
    // The URL of a search opens it.
    await page.goto(`${server.base}/admin/assets?q=bulk-${tag}-07`);
    await page.getByRole('row').filter({ hasText: `bulk-${tag}-07` }).waitFor();
    await page.getByText(/^1 activo · página 1/).waitFor();
    assert.deepEqual(problems, []);
  });

  uiTest('a malformed syslog datagram is a dead letter whose raw bytes open as text and hex', async () => {
    const marker = randomUUID().slice(0, 8);
    const datagram = `<999>broken ${marker}\u0001end`;
    await sendUdp(server, datagram);
    const letter = await eventually(
      async () => {
        const r = await fetch(`${server.base}/api/v1/admin/dead-letters?limit=20`, { headers: { authorization: `Bearer ${admin}` } });
        const items = (await r.json()).items ?? [];
        return items.find((d) => d.size === Buffer.byteLength(datagram)) ?? null;
      },
      { what: 'the dead letter', timeoutMs: 20_000 },
    );
    const { page, problems } = await adminOn('deadLetters');
    const opened = [];
    page.on('request', (r) => {
      if (/\/api\/v1\/admin\/dead-letters\/\d+$/.test(new URL(r.url()).pathname)) opened.push(r.url());
    });
    const letterRow = page.getByRole('row').filter({ hasText: 'PRI 999 is out of range' }).first();
    await letterRow.waitFor();
    assert.match(await letterRow.innerText(), /UDP[\s\S]*127\.0\.0\.1:\d+/);
    assert.deepEqual(opened, [], 'no raw bytes fetched before a letter is opened');
    await page.getByRole('button', { name: `Ver bytes carta ${letter.id}`, exact: true }).click();
    const text = page.getByTestId('dead-letter-text');
    await text.waitFor();
    assert.equal(opened.length, 1, 'one letter fetched');
    assert.match(await text.innerText(), new RegExp(`broken ${marker}`));
    const hex = await page.getByTestId('dead-letter-hex').innerText();
    assert.match(hex, /^00000000 {2}3c 39 39 39 3e 62 72 6f {2}6b 65 6e 20/m, hex);
    assert.match(hex, / 01 65 6e 64/, 'the control byte is in the hex dump');
    assert.match(hex, /\|<999>broken /);
    await screenshot(page, 'admin-es-10-dead-letter');
    assert.deepEqual(problems, []);
  });

  uiTest('a lead and an auditor see no admin link, and the URL says they have no permission', async () => {
    for (const role of ['lead', 'auditor']) {
      const user = await createUser(server, admin, role, role);
      const { page, problems } = await open();
      await signIn(page, server, user);
      const nav = page.getByRole('navigation', { name: 'Navegación principal' });
      await nav.getByRole('link', { name: 'Cola', exact: true }).waitFor();
      assert.equal(await nav.getByRole('link', { name: A.es.nav }).count(), 0, `${role}: no admin link`);
      if (role === 'auditor') {
        assert.equal(await page.getByRole('button', { name: 'Nuevo ticket' }).count(), 0, 'an auditor opens no ticket');
      }
      for (const path of Object.values(PATHS)) {
        await page.goto(`${server.base}${path}`);
        await page.getByRole('heading', { level: 1, name: A.es.noPermission }).waitFor();
        assert.equal(await page.getByRole('table').count(), 0, `${role} ${path}: nothing of the console`);
      }
      await screenshot(page, `admin-es-11-no-permission-${role}`);
      assert.deepEqual(await axeSerious(page), []);
      assert.deepEqual(problems, []);
    }
  });

  uiTest('axe: no serious or critical violation on any console, its dialogs included, in es and en', async () => {
    await createUser(server, admin, 'analyst', 'axe');
    await sendUdp(server, `<777>axe ${randomUUID().slice(0, 8)}`);
    for (const lang of ['es', 'en']) {
      const { page, problems } = await adminOn('users', { lang });
      const nav = page.getByRole('navigation', { name: lang === 'es' ? 'Consolas de administración' : 'Admin consoles' });
      for (const c of ['users', 'clients', 'assets', 'deadLetters']) {
        await nav.getByRole('link', { name: A[lang].consoles[c], exact: true }).click();
        await page.waitForURL((u) => u.pathname === PATHS[c]);
        await page.getByRole('heading', { level: 1, name: A[lang].consoles[c] }).waitFor();
        await page.getByRole('table').first().waitFor();
        assert.deepEqual(await axeSerious(page), [], `${lang} ${c}`);
        await screenshot(page, `admin-${lang}-console-${c}`);
      }
      // The dialogs, open.
      await nav.getByRole('link', { name: A[lang].consoles.users, exact: true }).click();
      await page.getByRole('button', { name: lang === 'es' ? 'Nuevo usuario' : 'New user', exact: true }).click();
      await page.getByRole('dialog').waitFor();
      assert.deepEqual(await axeSerious(page), [], `${lang} create user dialog`);
      await page.keyboard.press('Escape');
      await nav.getByRole('link', { name: A[lang].consoles.assets, exact: true }).click();
      await page.getByRole('button', { name: lang === 'es' ? 'Importar CSV' : 'Import CSV', exact: true }).click();
      const imp = page.getByRole('dialog');
      await imp.getByRole('textbox').fill('network,hostname,owner,business_unit,criticality\nnope,a,b,c,LOW');
      await imp.getByRole('button', { name: lang === 'es' ? 'Importar' : 'Import', exact: true }).click();
      await imp.getByRole('alert').waitFor();
      assert.deepEqual(await axeSerious(page), [], `${lang} CSV refusal`);
      await screenshot(page, `admin-${lang}-csv-refusal`);
      await page.keyboard.press('Escape');
      await nav.getByRole('link', { name: A[lang].consoles.deadLetters, exact: true }).click();
      await page.getByRole('button', { name: lang === 'es' ? /^Ver bytes/ : /^View bytes/ }).first().click();
      await page.getByTestId('dead-letter-hex').waitFor();
      assert.deepEqual(await axeSerious(page), [], `${lang} dead letter opened`);
      assert.deepEqual(problems, []);
    }
  });
});
