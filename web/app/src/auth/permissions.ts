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

/**
 * Each role's allow-list, as in domain/src/permissions.rs: what is not listed
 * is refused. A lead neither manages the CMDB nor reads dead letters; an
 * auditor reads, dead letters included, and changes nothing.
 */
export const ALLOWED: Record<Role, readonly Action[]> = {
  admin: ALL_ACTIONS,
  lead: [
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
  ],
  analyst: ['Read', 'OpenTicket', 'AssignTicket', 'WorkTicket', 'ResolveTicket', 'ChangeSeverity', 'CommentTicket', 'AnnotateTicket'],
  auditor: ['Read', 'ReadDeadLetters'],
  integration: ['Read', 'RaiseAlert'],
};

export function permits(role: Role, action: Action): boolean {
  return ALLOWED[role]?.includes(action) ?? false;
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

/** The SPA's screens beyond the queue and the ticket page. */
export type Screen = 'dashboard' | 'users' | 'clients' | 'assets' | 'deadLetters';
export const ADMIN_CONSOLES = ['users', 'clients', 'assets', 'deadLetters'] as const satisfies readonly Screen[];
export type AdminConsole = (typeof ADMIN_CONSOLES)[number];

const CONSOLE_ACTION: Record<AdminConsole, Action> = {
  users: 'ManageUsers',
  clients: 'ManageClients',
  assets: 'ManageAssets',
  deadLetters: 'ReadDeadLetters',
};

/**
 * The admin consoles are the admin's: a console needs its action and the
 * admin role (an auditor may read dead letters over the API, but the
 * consoles are an administration area, out of the auditor's navigation).
 */
export function canSeeConsole(roles: readonly Role[], console: AdminConsole): boolean {
  return roles.includes('admin') && anyPermits(roles, CONSOLE_ACTION[console]);
}

export function visibleConsoles(roles: readonly Role[]): AdminConsole[] {
  return ADMIN_CONSOLES.filter((c) => canSeeConsole(roles, c));
}

/** Whether a screen is shown to `roles` (the dashboard to every person who reads). */
export function canSee(roles: readonly Role[], screen: Screen): boolean {
  if (screen === 'dashboard') return roles.some((r) => r !== 'integration') && anyPermits(roles, 'Read');
  return canSeeConsole(roles, screen);
}

/** Whether `roles` may change anything at all (an auditor may not: no mutating control is shown). */
export function mayChangeAnything(roles: readonly Role[]): boolean {
  return ALL_ACTIONS.some((a) => a !== 'Read' && a !== 'ReadDeadLetters' && anyPermits(roles, a));
}
