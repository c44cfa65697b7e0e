// Shared by the node tests: a real `ticketera serve` on a fresh database, a
// logged-in admin, REST commands, GraphQL over HTTP, and a raw
// graphql-transport-ws socket for the protocol's error cases.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BINARY = process.env.TICKETERA_BIN ?? join(REPO_ROOT, 'target/debug/ticketera');
export const PG_BASE = (process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
export const WS_PROTOCOL = 'graphql-transport-ws';

/** Runs SQL with psql on a database of $TEST_DATABASE_URL; returns its -At output. */
export function psql(database, sql) {
  return execFileSync('psql', [`${PG_BASE}/${database}`, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts `ticketera serve` on 127.0.0.1 (a free port) with its own database
 * (`ticketera_test_node_<uuid>` on $TEST_DATABASE_URL) and an `admin` whose
 * password is returned. `env` adds or overrides environment variables.
 */
export async function startServer({ env = {}, startTimeoutMs = 60_000 } = {}) {
  const database = `ticketera_test_node_${randomUUID().replaceAll('-', '')}`;
  psql('postgres', `CREATE DATABASE "${database}"`);
  const dataDir = mkdtempSync(join(tmpdir(), 'ticketera-node-test-'));
  const adminPassword = `node-test-${randomUUID()}`;
  const child = spawn(BINARY, ['serve'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATABASE_URL: `${PG_BASE}/${database}`,
      TICKETERA_DATA_DIR: dataDir,
      TICKETERA_HTTP_ADDR: '127.0.0.1:0',
      // Several servers run at once: no fixed syslog ports.
      TICKETERA_SYSLOG_UDP_ADDR: '127.0.0.1:0',
      TICKETERA_SYSLOG_TCP_ADDR: '127.0.0.1:0',
      TICKETERA_ADMIN_PASSWORD: adminPassword,
      // GraphiQL's build (scripts/test builds web/ first).
      TICKETERA_WEB_DIR: join(REPO_ROOT, 'web/dist'),
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  child.stdout.setEncoding('utf8');
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`ticketera serve did not say where it serves within ${startTimeoutMs} ms\n${stderr}`)),
      startTimeoutMs,
    );
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(/Ticketera SOC serving on (http:\/\/\S+?)\/?\s/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`ticketera serve exited (${code ?? signal}) before serving\n${stdout}\n${stderr}`));
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${BINARY}: ${e.message}`));
    });
  }).catch(async (e) => {
    child.kill('SIGKILL');
    await exited;
    dropDatabase(database);
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  });

  const base = url.replace(/\/+$/, '');
  return {
    base,
    graphqlUrl: `${base}/graphql`,
    wsUrl: `${base.replace(/^http/, 'ws')}/graphql/ws`,
    host: new URL(base).host,
    adminPassword,
    database,
    logs: () => stderr,
    /** What the server printed on stdout so far (address lines, e.g. `syslog on udp://…`). */
    stdout: () => stdout,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      dropDatabase(database);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function dropDatabase(database) {
  try {
    psql('postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } catch {
    // scripts/test drops leftovers of earlier runs.
  }
}

/** OAuth2 password grant; returns the access token. */
export async function login(server, username = 'admin', password = server.adminPassword) {
  const res = await fetch(`${server.base}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  const body = await res.json();
  if (res.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`login as ${username}: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

async function rest(server, token, method, path, body, expected, headers = {}) {
  const res = await fetch(`${server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** POST /api/v1/tickets → {id, number, version, position}. */
export function openTicket(server, token, fields = {}) {
  return rest(server, token, 'POST', '/api/v1/tickets', { title: 'Node test ticket', severity: 'HIGH', ...fields }, 201);
}

/** POST /api/v1/tickets/{id}/{action} → {id, number, version, position}. */
export function command(server, token, id, action, body = {}, headers = {}) {
  return rest(server, token, 'POST', `/api/v1/tickets/${id}/${action}`, body, 200, headers);
}

/** A comment: the command that is valid in every status but CLOSED. */
export function comment(server, token, id, text = `comment ${randomUUID()}`, headers = {}) {
  return command(server, token, id, 'comments', { body: text }, headers);
}

/**
 * An interactive psql session on `database`: `run(sql)` sends statements and
 * resolves once they ran (psql echoes a marker after them); `end()` quits.
 */
export async function psqlSession(database) {
  const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', `${PG_BASE}/${database}`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let n = 0;
  return {
    async run(sql, timeoutMs = 10_000) {
      const marker = `__done_${++n}__`;
      child.stdin.write(`${sql}\n\\echo ${marker}\n`);
      await eventually(() => out.includes(marker), { timeoutMs, intervalMs: 20, what: `psql to run ${sql}` }).catch((e) => {
        throw new Error(`${e.message}\n${err}`);
      });
    },
    async end() {
      child.stdin.end('\\q\n');
      await exited;
    },
  };
}

/** GraphQL over HTTP; returns the parsed body, throws on a non-2xx status. */
export async function graphql(server, token, query, variables = {}) {
  const res = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /graphql: ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually(fn, { timeoutMs = 10_000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * A raw WebSocket on /graphql/ws that queues every message and remembers how
 * it closed, for the protocol cases a well-behaved client never produces.
 */
export class RawSocket {
  static async open(server, { protocols = [WS_PROTOCOL], options = {} } = {}) {
    const raw = new RawSocket(new WebSocket(server.wsUrl, protocols, options));
    await raw.opened;
    return raw;
  }

  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.waiters = [];
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode })),
      );
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.closed.catch(() => {});
    this.opened.catch(() => {});
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        msg = { unparseable: data.toString(), isBinary };
      }
      this.messages.push(msg);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get protocol() {
    return this.ws.protocol;
  }

  send(message) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  init(payload) {
    this.send(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
  }

  /** The next message that `match` accepts (others stay queued). */
  async next(match = () => true, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(match);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (this.ws.readyState === WebSocket.CLOSED) {
        const c = await this.closed;
        throw new Error(`socket closed (${c.code} ${c.reason}) before the expected message; got ${JSON.stringify(this.messages)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no expected message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with {code, reason} when the server closes, or rejects after timeoutMs. */
  async closedWithin(timeoutMs = 10_000) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`socket still open after ${timeoutMs} ms; messages: ${JSON.stringify(this.messages)}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** Opens a raw socket and completes the handshake with `token`. */
export async function ackedSocket(server, token) {
  const raw = await RawSocket.open(server);
  raw.init({ Authorization: `Bearer ${token}` });
  const ack = await raw.next((m) => m.type === 'connection_ack');
  return { raw, ack };
}

/** The contract's TicketEvent fields the tests read. */
export const EVENT_FIELDS = 'position sequence ticketId type recordedAt payload';

export const TICKET_EVENTS = `subscription TicketEvents($after: String) {
  ticketEvents(afterPosition: $after) { ${EVENT_FIELDS} }
}`;
