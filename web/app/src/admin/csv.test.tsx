// A refused CSV import as the console renders it: every refused line with the
// server's reason, in file order, and that nothing was imported.
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import i18n from '../i18n';
import { problemOf } from './api';
import { ImportRefusal, refusedRows } from './csv';

// The server's answer to a CSV with two bad lines (POST /api/v1/admin/assets/import).
const BODY = {
  code: 'invalid_csv',
  detail: '2 row(s) refused; nothing was imported',
  errors: [
    { line: 4, reason: "criticality 'SUPER' is not LOW, MEDIUM, HIGH or CRITICAL" },
    { line: 3, reason: "'not-an-ip' is not an IP address or a CIDR network" },
  ],
  status: 422,
  title: 'Unprocessable Entity',
  type: 'https://ticketera.invalid/problems/invalid_csv',
};
const CSV = 'network,hostname,owner,business_unit,criticality\n10.0.0.0/8,a,b,c,HIGH\nnot-an-ip,x,y,z,HIGH\n10.1.1.1,q,w,e,SUPER\n';

afterEach(async () => {
  cleanup();
  await i18n.changeLanguage('es');
});

describe('CSV refusal', () => {
  it('reads the problem body: its detail and its refused rows', () => {
    const p = problemOf(422, BODY);
    expect(p.code).toBe('invalid_csv');
    expect(p.detail).toBe('2 row(s) refused; nothing was imported');
    expect(refusedRows(p).map((r) => r.line)).toEqual([3, 4]);
    expect(problemOf(422, { errors: [{ line: 'x' }, null, { line: 2, reason: 'r' }] }).errors).toEqual([{ line: 2, reason: 'r' }]);
  });

  it('shows each refused line, why, and its text, and that nothing was imported (es)', () => {
    render(<ImportRefusal problem={problemOf(422, BODY)} csv={CSV} />);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('No se ha importado nada: el servidor rechazó estas líneas.');
    const items = within(within(alert).getByRole('list', { name: 'Líneas rechazadas' })).getAllByRole('listitem');
    expect(items.map((i) => i.textContent)).toEqual([
      "Línea 3: 'not-an-ip' is not an IP address or a CIDR networknot-an-ip,x,y,z,HIGH",
      "Línea 4: criticality 'SUPER' is not LOW, MEDIUM, HIGH or CRITICAL10.1.1.1,q,w,e,SUPER",
    ]);
  });

  it('in English, and without the file it names only the line', async () => {
    await i18n.changeLanguage('en');
    render(<ImportRefusal problem={problemOf(422, { ...BODY, errors: [BODY.errors[1]] })} />);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent('Nothing was imported: the server refused these lines.');
    expect(within(alert).getByRole('listitem').textContent).toBe("Line 3: 'not-an-ip' is not an IP address or a CIDR network");
  });
});
