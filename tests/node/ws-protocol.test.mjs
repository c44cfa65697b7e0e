// The graphql-transport-ws protocol on /graphql/ws, message by message with a
// raw WebSocket: the handshake, ping/pong, operation errors, and each
// protocol error's close code (docs/architecture.md, "The read side").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawSocket, TICKET_EVENTS, WS_PROTOCOL, ackedSocket, login, openTicket, startServer } from './helpers.mjs';

// How long the server waits for connection_init; the server under test is
// started with a short one where it reads it from the environment.
const INIT_TIMEOUT_SECS = 2;

const subscribe = (id, query = TICKET_EVENTS, variables = {}) => ({ type: 'subscribe', id, payload: { query, variables } });

describe('graphql-transport-ws protocol (raw WebSocket)', () => {
  let server;
  let token;
  const sockets = [];
  const track = (raw) => {
    sockets.push(raw);
    return raw;
  };
  const open = async (opts) => track(await RawSocket.open(server, opts));
  const acked = async () => {
    const { raw, ack } = await ackedSocket(server, token);
    track(raw);
    return { raw, ack };
  };

  /** The socket answers a ping: the connection is still usable. */
  async function assertAlive(raw) {
    raw.send({ type: 'ping' });
    await raw.next((m) => m.type === 'pong', 5_000);
  }

  async function assertClosedWith(raw, code, why) {
    const closed = await raw.closedWithin(15_000);
    assert.equal(closed.code, code, `${why}: closed with ${closed.code} "${closed.reason}" instead of ${code}`);
    return closed;
  }

  before(async () => {
    server = await startServer({
      env: {
        TICKETERA_GRAPHQL_WS_INIT_TIMEOUT_SECS: String(INIT_TIMEOUT_SECS),
      },
    });
    token = await login(server);
  });

  after(async () => {
    for (const s of sockets) s.close();
    await server?.stop();
  });

  describe('handshake', () => {
    test('the server selects the graphql-transport-ws subprotocol', async () => {
      const raw = await open();
      assert.equal(raw.protocol, WS_PROTOCOL);
    });

    test('connection_init with a valid token → connection_ack; ping → pong', async () => {
      const { raw, ack } = await acked();
      assert.equal(ack.type, 'connection_ack');
      if (ack.payload !== undefined && ack.payload !== null) assert.equal(typeof ack.payload, 'object');
      raw.send({ type: 'ping', payload: { n: 1 } });
      const pong = await raw.next((m) => m.type === 'pong');
      assert.equal(pong.type, 'pong');
    });

    test('the server answers a pong with nothing and keeps the connection', async () => {
      const { raw } = await acked();
      raw.send({ type: 'pong' });
      await assertAlive(raw);
    });

    test('a ping before connection_init is answered with a pong', async () => {
      const raw = await open();
      raw.send({ type: 'ping' });
      await raw.next((m) => m.type === 'pong');
    });

    test('a wrong token → 4403', async () => {
      const raw = await open();
      raw.init({ Authorization: 'Bearer not.a.jwt' });
      await assertClosedWith(raw, 4403, 'wrong token');
      assert.ok(!raw.messages.some((m) => m.type === 'connection_ack'), 'no connection_ack for a refused token');
    });

    test('a token signed by someone else → 4403', async () => {
      // A well-formed JWT (alg EdDSA) with a signature that is not the server's.
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const forged = `${b64({ alg: 'EdDSA', typ: 'JWT', kid: 'forged' })}.${b64({
        sub: 'admin',
        roles: ['admin'],
        iss: 'ticketera',
        aud: 'ticketera',
        iat: now,
        nbf: now,
        exp: now + 600,
        jti: 'forged',
      })}.${Buffer.alloc(64).toString('base64url')}`;
      const raw = await open();
      raw.init({ Authorization: `Bearer ${forged}` });
      await assertClosedWith(raw, 4403, 'forged token');
    });

    test('no token in connection_init → 4403', async () => {
      const raw = await open();
      raw.init({});
      await assertClosedWith(raw, 4403, 'no token');
    });

    test('connection_init without a payload → 4403', async () => {
      const raw = await open();
      raw.init();
      await assertClosedWith(raw, 4403, 'no payload');
    });

    test('a second connection_init → 4429', async () => {
      const { raw } = await acked();
      raw.init({ Authorization: `Bearer ${token}` });
      await assertClosedWith(raw, 4429, 'second connection_init');
    });

    test('subscribe before connection_ack → 4401', async () => {
      const raw = await open();
      raw.send(subscribe('early'));
      await assertClosedWith(raw, 4401, 'subscribe before connection_init');
    });

    test(`no connection_init within the init timeout → 4408`, { timeout: 30_000 }, async () => {
      const raw = await open();
      const started = Date.now();
      const closed = await raw.closedWithin(20_000);
      assert.equal(closed.code, 4408, `closed with ${closed.code} "${closed.reason}"`);
      const secs = (Date.now() - started) / 1000;
      assert.ok(secs >= INIT_TIMEOUT_SECS * 0.8, `closed after ${secs.toFixed(1)} s, before the init timeout`);
    });

    test('a browser from a foreign Origin gets no connection', async () => {
      let raw;
      try {
        raw = await open({ options: { origin: 'https://evil.example' } });
      } catch (e) {
        // Refusing the upgrade itself (e.g. 403) is a fine answer.
        assert.ok(e.statusCode >= 400, `upgrade failed with ${e.message}`);
        return;
      }
      raw.init({ Authorization: `Bearer ${token}` });
      const closed = await raw.closedWithin(10_000);
      assert.ok(!raw.messages.some((m) => m.type === 'connection_ack'), 'a foreign origin got connection_ack');
      assert.ok(closed.code >= 4000 || closed.code === 1008, `closed with ${closed.code} "${closed.reason}"`);
    });

    test('a browser from the server’s own origin is served', async () => {
      const raw = await open({ options: { origin: server.base } });
      raw.init({ Authorization: `Bearer ${token}` });
      await raw.next((m) => m.type === 'connection_ack');
    });
  });

  describe('malformed messages → 4400', () => {
    const cases = [
      ['text that is not JSON', 'this is not json'],
      ['a JSON value that is not an object', '[1,2,3]'],
      ['an object without a type', { id: '1' }],
      ['an unknown message type', { type: 'subscribe_please', id: '1' }],
      ['subscribe without an id', { type: 'subscribe', payload: { query: TICKET_EVENTS } }],
      ['subscribe with an empty id', { type: 'subscribe', id: '', payload: { query: TICKET_EVENTS } }],
      ['subscribe without a payload', { type: 'subscribe', id: '1' }],
      ['subscribe whose query is not a string', { type: 'subscribe', id: '1', payload: { query: 42 } }],
      ['complete without an id', { type: 'complete' }],
    ];
    for (const [name, message] of cases) {
      test(`after the ack: ${name}`, async () => {
        const { raw } = await acked();
        raw.send(message);
        await assertClosedWith(raw, 4400, name);
      });
    }

    test('before connection_init: text that is not JSON', async () => {
      const raw = await open();
      raw.send('{"type": "connection_init"');
      await assertClosedWith(raw, 4400, 'invalid JSON before init');
    });
  });

  describe('operations', () => {
    test('a duplicate subscription id → 4409', async () => {
      const { raw } = await acked();
      raw.send(subscribe('dup'));
      await assertAlive(raw);
      raw.send(subscribe('dup'));
      await assertClosedWith(raw, 4409, 'duplicate id');
    });

    test('an id may be reused once its subscription completed', async () => {
      const { raw } = await acked();
      raw.send(subscribe('again'));
      await assertAlive(raw);
      raw.send({ type: 'complete', id: 'again' });
      await assertAlive(raw);
      raw.send(subscribe('again'));
      await assertAlive(raw);
      assert.ok(!raw.messages.some((m) => m.type === 'error'), JSON.stringify(raw.messages));
    });

    test('complete stops the stream: no next for that id afterwards', { timeout: 30_000 }, async () => {
      const { raw } = await acked();
      raw.send(subscribe('s1'));
      raw.send(subscribe('s2'));
      await assertAlive(raw);
      // Make sure both streams are live before completing one of them.
      let live;
      for (let i = 0; i < 30 && !live; i++) {
        const t = await openTicket(server, token, { title: `complete ${i}` });
        try {
          await raw.next((m) => m.type === 'next' && m.id === 's1' && m.payload?.data?.ticketEvents?.ticketId === t.id, 1_000);
          live = t;
        } catch {
          // not yet live
        }
      }
      assert.ok(live, 'subscription s1 never delivered');
      await raw.next((m) => m.type === 'next' && m.id === 's2' && m.payload?.data?.ticketEvents?.ticketId === live.id);
      raw.send({ type: 'complete', id: 's1' });
      await assertAlive(raw);
      raw.messages.length = 0;
      const t = await openTicket(server, token, { title: 'after complete' });
      await raw.next((m) => m.type === 'next' && m.id === 's2' && m.payload?.data?.ticketEvents?.ticketId === t.id);
      await assertAlive(raw);
      assert.ok(!raw.messages.some((m) => m.id === 's1'), `messages for the completed s1: ${JSON.stringify(raw.messages)}`);
    });

    test('an invalid subscription → error message for that id; the connection stays', async () => {
      const { raw } = await acked();
      raw.send(subscribe('bad', 'subscription { noSuchField }'));
      const err = await raw.next((m) => m.id === 'bad');
      assert.equal(err.type, 'error', JSON.stringify(err));
      assert.ok(Array.isArray(err.payload) && err.payload.length > 0, `error payload is a list of GraphQL errors: ${JSON.stringify(err)}`);
      assert.equal(typeof err.payload[0].message, 'string');
      await assertAlive(raw);
    });

    test('an afterPosition that is not a cursor → GraphQL errors for that id; the connection stays', async () => {
      const { raw } = await acked();
      raw.send(subscribe('cursor', TICKET_EVENTS, { after: 'not-a-cursor' }));
      const first = await raw.next((m) => m.id === 'cursor');
      if (first.type === 'error') {
        assert.ok(Array.isArray(first.payload) && first.payload.length > 0, JSON.stringify(first));
      } else {
        assert.equal(first.type, 'next', JSON.stringify(first));
        assert.ok(first.payload.errors?.length > 0, `errors in ${JSON.stringify(first)}`);
        assert.equal(first.payload.data ?? null, null);
        const done = await raw.next((m) => m.id === 'cursor');
        assert.equal(done.type, 'complete', JSON.stringify(done));
      }
      await assertAlive(raw);
    });

    test('a query over the socket → next, then complete', async () => {
      const { raw } = await acked();
      raw.send(subscribe('q', '{ __typename }'));
      const next = await raw.next((m) => m.id === 'q');
      assert.equal(next.type, 'next', JSON.stringify(next));
      assert.deepEqual(next.payload.data, { __typename: 'Query' });
      const done = await raw.next((m) => m.id === 'q');
      assert.equal(done.type, 'complete', JSON.stringify(done));
    });

    test('subscriptions over the per-connection cap get an error message for their id', { timeout: 60_000 }, async () => {
      const { raw } = await acked();
      const max = 1_000;
      let refused;
      for (let i = 0; i < max && !refused; i++) {
        raw.send(subscribe(`cap-${i}`));
        if (i % 25 === 24) {
          await assertAlive(raw);
          refused = raw.messages.find((m) => m.type === 'error');
        }
      }
      await assertAlive(raw);
      refused ??= raw.messages.find((m) => m.type === 'error');
      assert.ok(refused, `no subscription refused among ${max} on one connection`);
      assert.match(refused.id, /^cap-\d+$/);
      assert.ok(Array.isArray(refused.payload) && typeof refused.payload[0]?.message === 'string', JSON.stringify(refused));
      // Only subscriptions past the cap are refused, and the connection stays.
      const cap = Number(refused.id.slice(4));
      assert.ok(cap > 0, 'the first subscription was refused');
      const errors = raw.messages.filter((m) => m.type === 'error').map((m) => Number(m.id.slice(4)));
      assert.ok(errors.every((n) => n >= cap), `refused ids ${errors}`);
      raw.send({ type: 'complete', id: 'cap-0' });
      await assertAlive(raw);
      raw.messages.length = 0;
      raw.send(subscribe('cap-after-complete'));
      await assertAlive(raw);
      assert.ok(
        !raw.messages.some((m) => m.type === 'error' && m.id === 'cap-after-complete'),
        'a completed subscription frees its place under the cap',
      );
    });
  });
});
