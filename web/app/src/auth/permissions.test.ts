import { describe, expect, it } from 'vitest';
import {
  ALL_ACTIONS,
  canSee,
  mayChangeAnything,
  permits,
  visibleCommands,
  visibleConsoles,
  type Action,
  type Role,
  type Screen,
  type TicketCommand,
} from './permissions';

// The table of domain/src/permissions.rs's test, written out. Columns:
// admin, lead, analyst, auditor, integration.
const TABLE: [Action, [boolean, boolean, boolean, boolean, boolean]][] = [
  ['Read', [true, true, true, true, true]],
  ['OpenTicket', [true, true, true, false, false]],
  ['AssignTicket', [true, true, true, false, false]],
  ['WorkTicket', [true, true, true, false, false]],
  ['ResolveTicket', [true, true, true, false, false]],
  ['CloseTicket', [true, true, false, false, false]],
  ['ReopenTicket', [true, true, false, false, false]],
  ['ChangeSeverity', [true, true, true, false, false]],
  ['CommentTicket', [true, true, true, false, false]],
  ['AnnotateTicket', [true, true, true, false, false]],
  ['RaiseAlert', [true, false, false, false, true]],
  ['ManageUsers', [true, false, false, false, false]],
  ['ManageClients', [true, false, false, false, false]],
  ['ManageAssets', [true, false, false, false, false]],
  ['ReadDeadLetters', [true, false, false, true, false]],
];
const ROLES: Role[] = ['admin', 'lead', 'analyst', 'auditor', 'integration'];

describe('permissions', () => {
  it('mirrors the server matrix exactly', () => {
    expect(TABLE.map(([a]) => a)).toEqual([...ALL_ACTIONS]);
    for (const [action, row] of TABLE) {
      ROLES.forEach((role, i) => expect(permits(role, action), `${role} ${action}`).toBe(row[i]));
    }
  });

  it('a lead manages neither the CMDB nor reads dead letters (the allow-list)', () => {
    expect(permits('lead', 'ManageAssets')).toBe(false);
    expect(permits('lead', 'ReadDeadLetters')).toBe(false);
    expect(permits('lead' as Role, 'Unknown' as Action)).toBe(false);
    expect(permits('superuser' as Role, 'Read')).toBe(false);
  });

  it('an analyst works tickets but neither closes nor reopens', () => {
    expect(visibleCommands(['analyst'], 'NEW')).toEqual([
      'assign',
      'unassign',
      'start',
      'resolve',
      'duplicate',
      'severity',
      'comments',
      'tags',
      'observables',
    ]);
    expect(visibleCommands(['analyst'], 'IN_PROGRESS')).toContain('hold');
    expect(visibleCommands(['analyst'], 'ON_HOLD')).toContain('resume');
    expect(visibleCommands(['analyst'], 'RESOLVED')).not.toContain('close');
    expect(visibleCommands(['analyst'], 'RESOLVED')).not.toContain('reopen');
    expect(visibleCommands(['analyst'], 'CLOSED')).toEqual([]);
  });

  it('a lead also closes and reopens', () => {
    expect(visibleCommands(['lead'], 'RESOLVED')).toEqual(expect.arrayContaining(['close', 'reopen']));
    expect(visibleCommands(['lead'], 'CLOSED')).toEqual(['reopen']);
    expect(visibleCommands(['admin'], 'RESOLVED')).toEqual(visibleCommands(['lead'], 'RESOLVED'));
  });

  it('auditors and integrations see no action', () => {
    for (const status of ['NEW', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CLOSED'] as const) {
      expect(visibleCommands(['auditor'], status)).toEqual([]);
      expect(visibleCommands(['integration'], status)).toEqual([]);
    }
  });

  it('shows each transition only where the domain allows it', () => {
    expect(visibleCommands(['admin'], 'NEW')).not.toContain('hold');
    expect(visibleCommands(['admin'], 'IN_PROGRESS')).not.toContain('start');
    expect(visibleCommands(['admin'], 'NEW')).not.toContain('close');
    expect(visibleCommands(['admin'], 'RESOLVED')).not.toContain('assign');
  });

  // Role → what the UI shows: the ticket commands of a RESOLVED and a CLOSED
  // ticket, the screens and the admin consoles.
  const VISIBLE: Record<Role, { resolved: TicketCommand[]; closed: TicketCommand[]; screens: Screen[]; changes: boolean }> = {
    admin: {
      resolved: ['unassign', 'close', 'reopen', 'severity', 'comments', 'tags', 'observables'],
      closed: ['reopen'],
      screens: ['dashboard', 'users', 'clients', 'assets', 'deadLetters'],
      changes: true,
    },
    lead: {
      resolved: ['unassign', 'close', 'reopen', 'severity', 'comments', 'tags', 'observables'],
      closed: ['reopen'],
      screens: ['dashboard'],
      changes: true,
    },
    analyst: { resolved: ['unassign', 'severity', 'comments', 'tags', 'observables'], closed: [], screens: ['dashboard'], changes: true },
    auditor: { resolved: [], closed: [], screens: ['dashboard'], changes: false },
    integration: { resolved: [], closed: [], screens: [], changes: true },
  };

  it('shows each role its actions, screens and consoles', () => {
    const screens: Screen[] = ['dashboard', 'users', 'clients', 'assets', 'deadLetters'];
    for (const role of ROLES) {
      const v = VISIBLE[role];
      expect(visibleCommands([role], 'RESOLVED'), `${role} RESOLVED`).toEqual(v.resolved);
      expect(visibleCommands([role], 'CLOSED'), `${role} CLOSED`).toEqual(v.closed);
      expect(screens.filter((s) => canSee([role], s)), `${role} screens`).toEqual(v.screens);
      expect(mayChangeAnything([role]), `${role} changes`).toBe(v.changes);
    }
    expect(visibleConsoles(['admin'])).toEqual(['users', 'clients', 'assets', 'deadLetters']);
    expect(visibleConsoles(['auditor']), 'dead letters are readable by auditors, but not a console of theirs').toEqual([]);
    expect(visibleConsoles(['lead'])).toEqual([]);
  });
});
