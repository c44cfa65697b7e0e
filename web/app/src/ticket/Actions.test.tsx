// Role → visible actions, as rendered on the ticket page.
import { render, screen, within } from '@testing-library/react';
import { Client, Provider } from 'urql';
import { never } from 'wonka';
import { describe, expect, it } from 'vitest';
import '../i18n';
import { visibleCommands, type Role } from '../auth/permissions';
import type { Status, TicketDetailFragment } from '../gql/graphql';
import { Actions } from './TicketPage';

const client = new Client({ url: '/graphql', exchanges: [() => () => never] });

function show(roles: Role[], status: Status, assignee: string | null = null) {
  const ticket = { id: 't1', number: 'SOC-7', status, severity: 'HIGH', assignee } as TicketDetailFragment;
  const view = render(
    <Provider value={client}>
      <Actions ticket={ticket} commands={new Set(visibleCommands(roles, status))} exec={async () => true} me="ana" />
    </Provider>,
  );
  const names = () =>
    within(view.container)
      .queryAllByRole('button')
      .map((b) => b.textContent);
  return { view, names };
}

describe('ticket actions by role', () => {
  it('an analyst on a NEW ticket: assign, start, resolve, duplicate, severity', () => {
    const { names } = show(['analyst'], 'NEW');
    expect(names()).toEqual(['Asignarme', 'Asignar a…', 'Empezar', 'Resolver', 'Marcar como duplicado', 'Cambiar severidad']);
  });

  it('an analyst cannot close a RESOLVED ticket; a lead can, and reopen it', () => {
    expect(show(['analyst'], 'RESOLVED').names()).toEqual(['Cambiar severidad']);
    expect(show(['lead'], 'RESOLVED', 'ana').names()).toEqual(['Desasignar', 'Cerrar', 'Reabrir', 'Cambiar severidad']);
  });

  it('an auditor gets no action, only the reason', () => {
    const { names } = show(['auditor'], 'IN_PROGRESS');
    expect(names()).toEqual([]);
    expect(screen.getByText('Tu rol no permite cambiar este ticket.')).toBeInTheDocument();
  });

  it('hold and resume follow the status', () => {
    expect(show(['analyst'], 'IN_PROGRESS', 'ana').names()).toEqual([
      'Asignar a…',
      'Desasignar',
      'Poner en espera',
      'Resolver',
      'Marcar como duplicado',
      'Cambiar severidad',
    ]);
    expect(show(['analyst'], 'ON_HOLD', 'ana').names()).toContain('Reanudar');
  });
});
