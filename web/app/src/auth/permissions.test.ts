import { describe, expect, it } from 'vitest';
import { ALL_ACTIONS, permits, visibleCommands, type Action, type Role } from './permissions';

// The matrix of domain/src/permissions.rs, spelled out.
const MATRIX: Record<Role, Action[]> = {
  admin: [...ALL_ACTIONS],
  lead: ALL_ACTIONS.filter((a) => !['ManageUsers', 'ManageClients', 'RaiseAlert'].includes(a)),
  analyst: ['Read', 'OpenTicket', 'AssignTicket', 'WorkTicket', 'ResolveTicket', 'ChangeSeverity', 'CommentTicket', 'AnnotateTicket'],
  auditor: ['Read', 'ReadDeadLetters'],
  integration: ['Read', 'RaiseAlert'],
};

describe('permissions', () => {
  it('mirrors the server matrix exactly', () => {
    for (const role of Object.keys(MATRIX) as Role[]) {
      for (const action of ALL_ACTIONS) {
        expect(permits(role, action), `${role} ${action}`).toBe(MATRIX[role].includes(action));
      }
    }
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
});
