import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CallTimeout,
  CouchpaySocket,
  defaultBackoff,
  newUuid,
  type Queued,
  type Reply,
  SocketClosed,
  type SocketStatus,
  type WebSocketLike,
} from '../src/api/socket';

/** A WebSocket the test drives: open it, drop it, answer its frames. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closedByClient = false;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }
  reply(action: string, message: Record<string, unknown>, requestId: string | null): void {
    this.onmessage?.({ data: JSON.stringify({ action, message, requestId }) });
  }
}

const last = (): FakeSocket => FakeSocket.all[FakeSocket.all.length - 1]!;

function makeSocket(extra: Partial<ConstructorParameters<typeof CouchpaySocket>[0]> = {}) {
  let n = 0;
  const statuses: SocketStatus[] = [];
  const socket = new CouchpaySocket({
    url: () => 'ws://127.0.0.1:8000/ws?token=t',
    createSocket: (url) => new FakeSocket(url),
    newRequestId: () => `rid-${++n}`,
    ...extra,
  });
  socket.onStatus((s) => statuses.push(s));
  return { socket, statuses };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CouchpaySocket', () => {
  it('sends {action, message, requestId} and resolves with the reply that echoes the requestId', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const pushed: Reply[] = [];
    socket.onPush((r) => pushed.push(r));
    const a = socket.call('get-items');
    const b = socket.call('get-user-credit-card', { userId: 'u' });
    expect(last().sent).toEqual([
      { action: 'get-items', message: {}, requestId: 'rid-1' },
      { action: 'get-user-credit-card', message: { userId: 'u' }, requestId: 'rid-2' },
    ]);
    last().reply('get-user-credit-card-resp-success', { cards: [] }, 'rid-2');
    last().reply('purchase-request-resp-success', { transactionId: 'x' }, 'someone-else');
    last().reply('get-items-resp-success', { items: [1] }, 'rid-1');
    await expect(a).resolves.toEqual({
      action: 'get-items-resp-success',
      message: { items: [1] },
      requestId: 'rid-1',
    });
    await expect(b).resolves.toMatchObject({ message: { cards: [] } });
    expect(pushed.map((r) => r.message)).toEqual([{ transactionId: 'x' }]);
  });

  it('holds calls made while connecting and sends them when the socket opens', async () => {
    const { socket, statuses } = makeSocket();
    socket.start();
    const call = socket.call('get-items');
    await vi.advanceTimersByTimeAsync(0);
    expect(last().sent).toEqual([]);
    last().open();
    expect(last().sent).toHaveLength(1);
    last().reply('get-items-resp-success', {}, 'rid-1');
    await expect(call).resolves.toMatchObject({ action: 'get-items-resp-success' });
    expect(statuses).toEqual(['connecting', 'open']);
  });

  it('reconnects by itself and retries an in-flight purchase with the same requestId', async () => {
    const { socket, statuses } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const first = last();
    first.open();
    const purchase = socket.call(
      'purchase-request',
      { cardId: 'c1', items: [{ item_id: 'ls', price_cents: 2000, quantity: 1 }] },
      { requestId: 'order-42' },
    );
    expect(first.sent).toHaveLength(1);
    first.drop(); // the reply is lost with the connection
    expect(statuses.at(-1)).toBe('reconnecting');
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(defaultBackoff(0));
    expect(FakeSocket.all).toHaveLength(2);
    const second = last();
    second.open();
    expect(second.sent).toEqual([first.sent[0]]); // same frame, same requestId
    expect(second.sent[0]!.requestId).toBe('order-42');
    second.reply(
      'purchase-request-resp-success',
      { transactionId: 't1', totalCents: 2200 },
      'order-42',
    );
    await expect(purchase).resolves.toMatchObject({ message: { transactionId: 't1' } });
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('backs off longer after each failed attempt, up to 8 s, and starts over once connected', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().drop();
    const delays = [250, 500, 1000, 2000, 4000, 8000, 8000];
    for (const delay of delays) {
      const count = FakeSocket.all.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeSocket.all).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.all).toHaveLength(count + 1);
      last().drop();
    }
    await vi.advanceTimersByTimeAsync(8000);
    last().open();
    last().drop();
    const count = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.all).toHaveLength(count + 1);
  });

  it('reconnects at once when asked (the browser came back online)', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    last().drop();
    socket.reconnectNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(2);
    socket.reconnectNow(); // already connecting: nothing more
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('gives up on a call after its timeout, even across reconnects', async () => {
    const { socket } = makeSocket({ timeoutMs: 5000 });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const call = socket.call('get-items');
    const outcome = expect(call).rejects.toBeInstanceOf(CallTimeout);
    last().drop();
    await vi.advanceTimersByTimeAsync(5000);
    await outcome;
    last().open();
    expect(last().sent).toEqual([]); // not sent again after giving up
  });

  it('hands queued frames to onQueued without resolving the call, then resolves with the outcome', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const queued: Reply<Queued>[] = [];
    const pushed: Reply[] = [];
    socket.onQueued((r) => queued.push(r));
    socket.onPush((r) => pushed.push(r));
    let settled = false;
    const call = socket.call('purchase-request', { cardId: 'c' }, { requestId: 'order-1' });
    void call.then(() => (settled = true));
    const line = { transactionId: 't1', position: 3, etaSeconds: 9 };
    last().reply('purchase-request-resp-queued', line, 'order-1');
    last().reply(
      'purchase-request-resp-queued',
      { ...line, position: 1, etaSeconds: 3 },
      'order-1',
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    expect(queued.map((r) => [r.requestId, r.message.position])).toEqual([
      ['order-1', 3],
      ['order-1', 1],
    ]);
    expect(pushed).toEqual([]);
    last().reply('purchase-request-resp-success', { transactionId: 't1' }, 'order-1');
    await expect(call).resolves.toMatchObject({ action: 'purchase-request-resp-success' });
    expect(queued).toHaveLength(2); // the outcome is not a queued frame
  });

  it('hands queued frames to onQueued when no call waits for them (another tab, after a reload)', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const queued: Reply<Queued>[] = [];
    const pushed: Reply[] = [];
    const off = socket.onQueued((r) => queued.push(r));
    socket.onPush((r) => pushed.push(r));
    const line = { transactionId: 't2', position: 0, etaSeconds: 1 };
    last().reply('purchase-request-resp-queued', line, 'order-from-before');
    expect(queued).toEqual([
      { action: 'purchase-request-resp-queued', message: line, requestId: 'order-from-before' },
    ]);
    expect(pushed).toEqual([]); // not a push: the outcome is
    last().reply('purchase-request-resp-failure', { code: 'busy' }, 'order-from-before');
    expect(pushed.map((r) => r.action)).toEqual(['purchase-request-resp-failure']);
    off();
    last().reply('purchase-request-resp-queued', line, 'order-from-before');
    expect(queued).toHaveLength(1);
  });

  it("restarts a call's timeout on every queued frame (the wait in line can be long)", async () => {
    const { socket } = makeSocket({ timeoutMs: 5000 });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    let failed: unknown = null;
    const call = socket.call('purchase-request', {}, { requestId: 'order-2' });
    call.catch((e: unknown) => (failed = e));
    for (let position = 4; position >= 0; position -= 1) {
      await vi.advanceTimersByTimeAsync(4000); // less than the timeout since the last frame
      last().reply(
        'purchase-request-resp-queued',
        { transactionId: 't3', position, etaSeconds: position * 4 },
        'order-2',
      );
    }
    await vi.advanceTimersByTimeAsync(4999);
    expect(failed).toBeNull(); // 24 s after the call, still waiting
    await vi.advanceTimersByTimeAsync(1);
    await expect(call).rejects.toBeInstanceOf(CallTimeout);
  });

  it('a queued frame for a call that gave up does not bring it back', async () => {
    const { socket } = makeSocket({ timeoutMs: 1000 });
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const queued: Reply<Queued>[] = [];
    socket.onQueued((r) => queued.push(r));
    const call = socket.call('purchase-request', {}, { requestId: 'order-3' });
    const outcome = expect(call).rejects.toBeInstanceOf(CallTimeout);
    await vi.advanceTimersByTimeAsync(1000);
    await outcome;
    last().reply(
      'purchase-request-resp-queued',
      { transactionId: 't4', position: 2, etaSeconds: 2 },
      'order-3',
    );
    await vi.advanceTimersByTimeAsync(5000);
    expect(queued).toHaveLength(1); // still heard by the listeners (the line screen)
    expect(last().sent).toHaveLength(1); // and nothing is sent again
  });

  it('close() fails waiting calls and stops reconnecting', async () => {
    const { socket, statuses } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    const ws = last();
    ws.open();
    const call = socket.call('get-items');
    socket.close();
    await expect(call).rejects.toBeInstanceOf(SocketClosed);
    expect(ws.closedByClient).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(statuses.at(-1)).toBe('closed');
  });

  it('closes when there is no way to sign in (url() throws)', async () => {
    const { socket, statuses } = makeSocket({
      url: () => {
        throw new Error('Your session has ended.');
      },
    });
    const call = socket.call('get-items');
    socket.start();
    await expect(call).rejects.toThrow('Your session has ended.');
    expect(statuses.at(-1)).toBe('closed');
    expect(FakeSocket.all).toHaveLength(0);
  });

  it('ignores frames that are not replies, and refuses a requestId already waiting', async () => {
    const { socket } = makeSocket();
    socket.start();
    await vi.advanceTimersByTimeAsync(0);
    last().open();
    const pushed: Reply[] = [];
    socket.onPush((r) => pushed.push(r));
    last().onmessage?.({ data: 'not json' });
    last().onmessage?.({ data: '[1,2]' });
    last().onmessage?.({ data: new ArrayBuffer(2) });
    expect(pushed).toEqual([]);
    void socket.call('purchase-request', {}, { requestId: 'same' });
    await expect(socket.call('purchase-request', {}, { requestId: 'same' })).rejects.toThrow(
      'already waiting',
    );
  });
});

describe('newUuid', () => {
  it('makes v4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 100 }, newUuid));
    expect(ids.size).toBe(100);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
