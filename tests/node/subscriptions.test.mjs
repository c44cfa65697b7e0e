// ticketEvents over graphql-transport-ws with the `graphql-ws` npm client:
// live delivery after REST commands, resume after a dropped connection with
// `afterPosition` (no gap, no duplicate, also around events committed out of
// position order), and refused tokens (4403).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  TICKET_EVENTS,
  comment,
  command,
  eventually,
  graphql,
  login,
  openTicket,
  psql,
  psqlSession,
  startServer,
} from './helpers.mjs';

/** A graphql-ws client whose sockets the test can reach (to drop them). */
function wsClient(server, connectionParams) {
  const sockets = [];
  const closes = [];
  class TrackedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: TrackedWebSocket,
    connectionParams,
    retryAttempts: 0,
    on: { closed: (event) => closes.push(event) },
  });
  return { client, sockets, closes };
}

/** Subscribes and collects every `ticketEvents` item, the error, completion. */
function collect(client, variables = {}) {
  const sub = { events: [], error: undefined, completed: false, listeners: new Set() };
  const notify = () => {
    for (const l of sub.listeners) l();
  };
  sub.dispose = client.subscribe(
    { query: TICKET_EVENTS, variables },
    {
      next: (result) => {
        if (result.errors) sub.error = new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
        else sub.events.push(result.data.ticketEvents);
        notify();
      },
      error: (e) => {
        sub.error = e;
        notify();
      },
      complete: () => {
        sub.completed = true;
        notify();
      },
    },
  );
  /** Resolves when `predicate(events)` holds; rejects on error or timeout. */
  sub.until = (predicate, what, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(sub.events)) return finish(resolve, sub.events);
        if (sub.error && !sub.allowError) {
          return finish(reject, new Error(`subscription failed while waiting for ${what}: ${describeError(sub.error)}`));
        }
        if (sub.completed) return finish(reject, new Error(`subscription completed while waiting for ${what}`));
      };
      const timer = setTimeout(
        () =>
          finish(
            reject,
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(sub.events.map(short))}`),
          ),
        timeoutMs,
      );
      function finish(fn, v) {
        clearTimeout(timer);
        sub.listeners.delete(check);
        fn(v);
      }
      sub.listeners.add(check);
      check();
    });
  return sub;
}

function describeError(e) {
  if (e && typeof e === 'object' && 'code' in e) return `close ${e.code} ${e.reason ?? ''}`.trim();
  if (e instanceof Error) return e.message;
  return JSON.stringify(e);
}

const short = (e) => `${e.ticketId?.slice(0, 8)}#${e.sequence}@${e.position}`;
const key = (e) => `${e.ticketId}#${e.sequence}`;
const positionsOf = (events) => events.map((e) => e.position);

function assertWellFormed(event) {
  assert.equal(typeof event.position, 'string', 'position is an opaque string');
  assert.ok(event.position.length > 0);
  assert.ok(Number.isInteger(event.sequence) && event.sequence >= 1, `sequence ${event.sequence}`);
  assert.match(event.ticketId, /^[0-9a-f-]{36}$/i);
  assert.equal(typeof event.type, 'string');
  assert.ok(!Number.isNaN(Date.parse(event.recordedAt)), `recordedAt ${event.recordedAt}`);
  assert.ok(event.payload !== undefined, 'payload is present');
}

/** Within each ticket, events arrive in sequence order with no repeat. */
function assertPerTicketOrder(events) {
  const last = new Map();
  for (const e of events) {
    const prev = last.get(e.ticketId) ?? 0;
    assert.ok(e.sequence > prev, `ticket ${e.ticketId}: sequence ${e.sequence} after ${prev}`);
    last.set(e.ticketId, e.sequence);
  }
}

describe('ticketEvents subscription (graphql-ws client)', () => {
  let server;
  let token;
  const clients = [];

  before(async () => {
    server = await startServer();
    token = await login(server);
  });

  after(async () => {
    for (const c of clients) await c.client.dispose();
    await server?.stop();
  });

  test('live events arrive after REST commands, with the positions the commands answered', { timeout: 60_000 }, async () => {
    const c = wsClient(server, { Authorization: `Bearer ${token}` });
    clients.push(c);
    const sub = collect(c.client);

    // Subscribing is asynchronous on the server: open tickets until one is
    // delivered, so the subscription is known to be live.
    let ticket;
    for (let attempt = 0; attempt < 30 && !ticket; attempt++) {
      const opened = await openTicket(server, token, { title: `live ${attempt}` });
      try {
        await sub.until((es) => es.some((e) => e.ticketId === opened.id), `ticket ${opened.number}`, 1_000);
        ticket = opened;
      } catch (e) {
        if (sub.error) throw e;
      }
    }
    assert.ok(ticket, 'no opened ticket reached a live subscription within 30 attempts');
    const opening = sub.events.find((e) => e.ticketId === ticket.id);
    assert.equal(opening.position, ticket.position, 'the open command answered the position of its event');
    assert.equal(opening.sequence, 1);

    const answers = [];
    answers.push(await comment(server, token, ticket.id, 'first look'));
    answers.push(await command(server, token, ticket.id, 'assign', { assignee: 'admin' }));
    answers.push(await command(server, token, ticket.id, 'start'));
    answers.push(await command(server, token, ticket.id, 'hold', { reason: 'waiting for the asset owner' }));
    answers.push(await command(server, token, ticket.id, 'resume'));
    answers.push(await command(server, token, ticket.id, 'severity', { severity: 'CRITICAL', reason: 'lateral movement' }));

    await sub.until(
      (es) => answers.every((a) => es.some((e) => e.position === a.position)),
      'an event at every position the commands answered',
    );
    const mine = sub.events.filter((e) => e.ticketId === ticket.id);
    mine.forEach(assertWellFormed);
    assertPerTicketOrder(sub.events);
    assert.equal(new Set(positionsOf(sub.events)).size, sub.events.length, 'no position delivered twice');
    for (const a of answers) {
      const e = mine.find((x) => x.position === a.position);
      assert.equal(e.sequence, a.version, `the event at ${a.position} is the ticket's version ${a.version}`);
    }
    // Nothing of this ticket is missing between its first and last event.
    assert.deepEqual(
      mine.map((e) => e.sequence),
      Array.from({ length: mine.length }, (_, i) => i + 1),
    );
    sub.dispose();
  });

  test('livePosition: read before a list, it starts a subscription that misses nothing the list lacks', { timeout: 60_000 }, async () => {
    const start = (await graphql(server, token, '{ livePosition }')).data.livePosition;
    assert.equal(typeof start, 'string');
    const before = await openTicket(server, token, { title: `before the list ${randomUUID().slice(0, 6)}` });
    // Projected: a list read now shows it.
    await eventually(async () => (await graphql(server, token, '{ ticket(number: $n) { id } }'.replace('$n', JSON.stringify(before.number)))).data?.ticket, {
      what: `${before.number} in the read model`,
    });
    // Opened after the list was read and before the subscription starts:
    // only the subscription can bring it.
    const between = await openTicket(server, token, { title: `before the subscription ${randomUUID().slice(0, 6)}` });
    const c = wsClient(server, { Authorization: `Bearer ${token}` });
    clients.push(c);
    const sub = collect(c.client, { after: start });
    await sub.until((es) => es.some((e) => e.ticketId === between.id), `ticket ${between.number}`);
    const positions = positionsOf(sub.events);
    assert.ok(positions.includes(before.position), 'the event after the start position came too');
    const order = (cursor) => BigInt(Buffer.from(cursor.slice('p1_'.length), 'base64url').toString().split(':')[1]);
    assert.ok(
      sub.events.every((e) => order(e.position) > order(start)),
      'nothing at or before the start position',
    );
    sub.dispose();
  });

  test('resume after a dropped connection with afterPosition: no gap, no duplicate', { timeout: 90_000 }, async () => {
    const a = await openTicket(server, token, { title: 'resume A' });
    const before = [];

    // First connection: catch up from A's opening, then live.
    const first = wsClient(server, { Authorization: `Bearer ${token}` });
    clients.push(first);
    const sub1 = collect(first.client, { after: a.position });
    for (let i = 0; i < 3; i++) before.push(await comment(server, token, a.id, `A before drop ${i}`));
    const b = await openTicket(server, token, { title: 'resume B' });
    before.push(b);
    before.push(await comment(server, token, b.id, 'B before drop'));
    await sub1.until((es) => before.every((x) => es.some((e) => e.position === x.position)), 'the events before the drop');
    assert.ok(!sub1.events.some((e) => e.position === a.position), 'afterPosition excludes the event at that position');
    const lastSeen = sub1.events.at(-1).position;

    // Drop the connection abruptly (no close frame), as a network failure would.
    sub1.allowError = true;
    assert.equal(first.sockets.length, 1);
    first.sockets[0].terminate();
    await sub1.until(() => sub1.error !== undefined, 'the client to notice the drop', 10_000).catch(() => {});
    assert.ok(sub1.error, 'the client saw the connection drop');
    const seenBeforeDrop = [...sub1.events];

    // While nobody listens: more events on both tickets.
    const during = [];
    for (let i = 0; i < 2; i++) {
      during.push(await comment(server, token, a.id, `A while disconnected ${i}`));
      during.push(await comment(server, token, b.id, `B while disconnected ${i}`));
    }
    during.push(await command(server, token, a.id, 'start'));

    // Reconnect and resume after the last position received.
    const second = wsClient(server, { Authorization: `Bearer ${token}` });
    clients.push(second);
    const sub2 = collect(second.client, { after: lastSeen });
    await sub2.until((es) => during.every((x) => es.some((e) => e.position === x.position)), 'the events missed while disconnected');
    const live = [await comment(server, token, a.id, 'A after resume'), await comment(server, token, b.id, 'B after resume')];
    await sub2.until((es) => live.every((x) => es.some((e) => e.position === x.position)), 'live events after the resume');

    const received = [...seenBeforeDrop, ...sub2.events];
    received.forEach(assertWellFormed);
    const firstPositions = new Set(positionsOf(seenBeforeDrop));
    for (const e of sub2.events) {
      assert.ok(!firstPositions.has(e.position), `event ${short(e)} delivered again after the resume`);
    }
    assert.equal(new Set(received.map(key)).size, received.length, 'no event delivered twice');
    assertPerTicketOrder(received);

    // Compare with the tickets' own histories: every event after A's opening
    // arrived exactly once, at the same position.
    const history = async (id) =>
      (
        await graphql(
          server,
          token,
          'query History($id: ID!) { ticketHistory(id: $id) { position sequence ticketId type } }',
          { id },
        )
      ).data.ticketHistory;
    const expected = [...(await history(a.id)), ...(await history(b.id))].filter((e) => e.position !== a.position);
    const byKey = new Map(received.map((e) => [key(e), e]));
    const missing = expected.filter((e) => !byKey.has(key(e)));
    assert.deepEqual(missing.map(short), [], 'events in the history that the subscriptions never delivered');
    for (const e of expected) assert.equal(byKey.get(key(e)).position, e.position, `position of ${key(e)}`);
    const extra = received.filter((e) => !expected.some((x) => key(x) === key(e)));
    assert.deepEqual(extra.map(short), [], 'events delivered that are not in the histories');
    sub2.dispose();
  });

  test('events committed out of position order: delivered in cursor order, and resuming around them loses and repeats nothing', { timeout: 90_000 }, async () => {
    const t1 = await openTicket(server, token, { title: 'slow writer' });
    const t2 = await openTicket(server, token, { title: 'fast writer' });
    const start = t2.position;

    const live = wsClient(server, { Authorization: `Bearer ${token}` });
    clients.push(live);
    const sub = collect(live.client, { after: t1.position });
    await sub.until((es) => es.some((e) => e.position === start), 'the catch-up to reach the second opening');

    // A: a command whose transaction appends its event, then waits, because
    // this session holds a lock on the idempotency keys its answer is stored
    // with; B: a command on another ticket that commits meanwhile. A's event
    // gets the lower global position but commits after B's.
    const lock = await psqlSession(server.database);
    let slow;
    let fast;
    try {
      await lock.run('BEGIN; LOCK TABLE idempotency_keys IN SHARE MODE;');
      slow = comment(server, token, t1.id, 'slow', { 'Idempotency-Key': randomUUID() });
      slow.catch(() => {});
      await eventually(
        () =>
          Number(
            psql(
              server.database,
              "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO idempotency_keys%'",
            ).trim(),
          ) > 0,
        { what: 'the slow command to wait on the lock', timeoutMs: 10_000 },
      );
      fast = await comment(server, token, t2.id, 'fast');
      // While A is uncommitted, B must not be delivered: a client resuming
      // after B's position would otherwise never see A.
      await sleep(1_500);
      assert.ok(!sub.events.some((e) => e.position === fast.position), 'B delivered while an earlier event was still uncommitted');
    } finally {
      await lock.run('COMMIT;').catch(() => {});
      await lock.end();
    }
    slow = await slow;

    // The premise: A has the lower global position and committed last.
    const globalPosition = (id, seq) =>
      Number(psql(server.database, `SELECT global_position FROM events WHERE aggregate_id = '${id}' AND sequence = ${seq}`).trim());
    assert.ok(
      globalPosition(t1.id, slow.version) < globalPosition(t2.id, fast.version),
      'A (committed last) has the lower global position',
    );

    await sub.until((es) => [slow, fast].every((x) => es.some((e) => e.position === x.position)), 'both events live');
    const order = positionsOf(sub.events);
    assert.ok(order.indexOf(slow.position) < order.indexOf(fast.position), 'A is delivered before B (cursor order)');
    assert.equal(new Set(order).size, order.length, 'no duplicate on the live connection');

    // Resume points around them, each on a fresh connection.
    const resumeFrom = async (after, expected, what) => {
      const c = wsClient(server, { Authorization: `Bearer ${token}` });
      clients.push(c);
      const s2 = collect(c.client, { after });
      await s2.until((es) => expected.every((x) => es.some((e) => e.position === x.position)), what);
      const tail = await comment(server, token, t1.id, `after ${what}`);
      await s2.until((es) => es.some((e) => e.position === tail.position), `the live event after ${what}`);
      assert.deepEqual(positionsOf(s2.events), [...expected.map((x) => x.position), tail.position], what);
      s2.dispose();
      return tail;
    };
    const tailA = await resumeFrom(start, [slow, fast], 'resume before A');
    const tailB = await resumeFrom(slow.position, [fast, tailA], 'resume between A and B');
    await resumeFrom(fast.position, [tailA, tailB], 'resume after B');
    sub.dispose();
  });

  for (const [name, params] of [
    ['a wrong token', { Authorization: 'Bearer not-a-token' }],
    ['no token', {}],
    ['no connection_init payload', undefined],
  ]) {
    test(`${name} → the server closes with 4403`, { timeout: 20_000 }, async () => {
      const c = wsClient(server, params);
      clients.push(c);
      const sub = collect(c.client);
      sub.allowError = true;
      await sub.until(() => sub.error !== undefined || sub.completed, 'the connection to be refused', 10_000);
      assert.equal(sub.events.length, 0);
      assert.ok(sub.error, 'the subscription failed');
      assert.equal(sub.error.code, 4403, `closed with ${describeError(sub.error)}`);
      assert.equal(c.closes.at(-1)?.code, 4403);
    });
  }
});
