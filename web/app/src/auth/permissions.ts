// The role → action matrix, mirrored from domain/src/permissions.rs (the
// server enforces it; the UI only shows what the role may do). Keep the two
// in step: permissions.test.ts spells the whole matrix out.

export type Role = 'admin' | 'lead' | 'analyst' | 'auditor' | 'integration';

export type Action =
  | 'Read'
  | 'OpenTicket'
  | 'AssignTicket'
  /** start, hold, resume */
  | 'WorkTicket'
  /** resolve, mark duplicate */
  | 'ResolveTicket'
  | 'CloseTicket'
  | 'ReopenTicket'
  | 'ChangeSeverity'
  | 'CommentTicket'
  /** tags and observables */
  | 'AnnotateTicket'
  | 'RaiseAlert'
  | 'ManageUsers'
  | 'ManageClients'
  | 'ManageAssets'
  | 'ReadDeadLetters';

export const ALL_ACTIONS: readonly Action[] = [
  'Read',
  'OpenTicket',
  'AssignTicket',
  'WorkTicket',
  'ResolveTicket',
  'CloseTicket',
  'ReopenTicket',
  'ChangeSeverity',
  'CommentTicket',
  'AnnotateTicket',
  'RaiseAlert',
  'ManageUsers',
  'ManageClients',
  'ManageAssets',
  'ReadDeadLetters',
];

export function permits(role: Role, action: Action): boolean {
  switch (role) {
    case 'admin':
      return true;
    case 'lead':
      return !['ManageUsers', 'ManageClients', 'RaiseAlert'].includes(action);
    case 'analyst':
      return [
        'Read',
        'OpenTicket',
        'AssignTicket',
        'WorkTicket',
        'ResolveTicket',
        'ChangeSeverity',
        'CommentTicket',
        'AnnotateTicket',
      ].includes(action);
    case 'auditor':
      return action === 'Read' || action === 'ReadDeadLetters';
    case 'integration':
      return action === 'Read' || action === 'RaiseAlert';
  }
}

export function anyPermits(roles: readonly Role[], action: Action): boolean {
  return roles.some((r) => permits(r, action));
}

/** The ticket commands of the UI, each with the action that allows it. */
export type TicketCommand =
  | 'assign'
  | 'unassign'
  | 'start'
  | 'hold'
  | 'resume'
  | 'resolve'
  | 'close'
  | 'reopen'
  | 'severity'
  | 'comments'
  | 'tags'
  | 'observables'
  | 'duplicate';

export const COMMAND_ACTION: Record<TicketCommand, Action> = {
  assign: 'AssignTicket',
  unassign: 'AssignTicket',
  start: 'WorkTicket',
  hold: 'WorkTicket',
  resume: 'WorkTicket',
  resolve: 'ResolveTicket',
  duplicate: 'ResolveTicket',
  close: 'CloseTicket',
  reopen: 'ReopenTicket',
  severity: 'ChangeSeverity',
  comments: 'CommentTicket',
  tags: 'AnnotateTicket',
  observables: 'AnnotateTicket',
};

export type Status = 'NEW' | 'IN_PROGRESS' | 'ON_HOLD' | 'RESOLVED' | 'CLOSED';

/**
 * Which commands a status allows (domain/src/ticket.rs decides; this only
 * hides what would be a 409): start from NEW, hold from IN_PROGRESS, resume
 * from ON_HOLD, resolve or duplicate while open, close when RESOLVED, reopen
 * when RESOLVED or CLOSED, no assignment once resolved, nothing but reopen
 * when CLOSED.
 */
const BY_STATUS: Record<Status, readonly TicketCommand[]> = {
  NEW: ['assign', 'unassign', 'start', 'resolve', 'duplicate', 'severity', 'comments', 'tags', 'observables'],
  IN_PROGRESS: ['assign', 'unassign', 'hold', 'resolve', 'duplicate', 'severity', 'comments', 'tags', 'observables'],
  ON_HOLD: ['assign', 'unassign', 'resume', 'resolve', 'duplicate', 'severity', 'comments', 'tags', 'observables'],
  RESOLVED: ['unassign', 'close', 'reopen', 'severity', 'comments', 'tags', 'observables'],
  CLOSED: ['reopen'],
};

/** The commands to show for a ticket in `status` to a user with `roles`. */
export function visibleCommands(roles: readonly Role[], status: Status): TicketCommand[] {
  return BY_STATUS[status].filter((c) => anyPermits(roles, COMMAND_ACTION[c]));
}
