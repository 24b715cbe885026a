/**
 * The page's one WebSocket to couchpay (SPEC "Wire protocol").
 *
 * - `call(action, message, {requestId})` sends `{action, message, requestId}` and resolves with the
 *   reply that echoes the requestId.
 * - The socket reconnects by itself (backoff 0.25 s doubling to 8 s). Every request still waiting
 *   for its reply is sent again on the new connection **with the same requestId**: for
 *   `purchase-request` that is the idempotency key, so a purchase in flight during a drop is
 *   charged once and its reply is the first attempt's outcome.
 * - Frames nobody waits for (a webhook settling a purchase) go to `onPush` listeners.
 * - `purchase-request-resp-queued` (the purchase waits in the service's admission line) never
 *   resolves a call: it goes to `onQueued` listeners, whether or not a call waits for that
 *   requestId, and restarts that call's timeout (a wait in line can last minutes). The final
 *   reply with the same requestId comes later.
 */

export interface Reply<M = Record<string, unknown>> {
  action: string;
  message: M;
  requestId: string | null;
}

export type SocketStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the browser's WebSocket this client uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export interface SocketOptions {
  /** The ws(s):// URL with the token, asked for before every (re)connect. Throw to give up. */
  url: () => string | Promise<string>;
  createSocket?: (url: string) => WebSocketLike;
  /** Delay before reconnect attempt n (0-based). */
  backoffMs?: (attempt: number) => number;
  /** How long a call waits for its reply, across reconnects. */
  timeoutMs?: number;
  newRequestId?: () => string;
}

/** The reply that says a purchase waits in line (never a call's answer). */
export const QUEUED = 'purchase-request-resp-queued';

export interface Queued {
  transactionId: string;
  /** 1 = next; 0 = with Stripe now. */
  position: number;
  etaSeconds: number;
}

export interface CallOptions {
  requestId?: string;
  timeoutMs?: number;
}

export class CallTimeout extends Error {
  constructor(readonly action: string) {
    super(`No answer to ${action} in time.`);
    this.name = 'CallTimeout';
  }
}

export class SocketClosed extends Error {
  constructor(reason = 'The connection was closed.') {
    super(reason);
    this.name = 'SocketClosed';
  }
}

interface Pending {
  action: string;
  frame: string;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
  /** (Re)start the timeout from now. */
  arm: () => void;
}

const OPEN = 1;

export function defaultBackoff(attempt: number): number {
  return Math.min(8000, 250 * 2 ** attempt);
}

/** A random UUID v4 (crypto.randomUUID exists only in secure contexts: https or loopback). */
export function newUuid(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class CouchpaySocket {
  private ws: WebSocketLike | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly pushListeners = new Set<(reply: Reply) => void>();
  private readonly queuedListeners = new Set<(reply: Reply<Queued>) => void>();
  private readonly statusListeners = new Set<(status: SocketStatus) => void>();
  private currentStatus: SocketStatus = 'closed';
  private attempt = 0;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly createSocket: (url: string) => WebSocketLike;
  private readonly backoffMs: (attempt: number) => number;
  private readonly timeoutMs: number;
  private readonly newRequestId: () => string;

  constructor(private readonly options: SocketOptions) {
    this.createSocket =
      options.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
    this.backoffMs = options.backoffMs ?? defaultBackoff;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.newRequestId = options.newRequestId ?? newUuid;
  }

  get status(): SocketStatus {
    return this.currentStatus;
  }

  /** Open the connection (and keep it open until `close()`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  /** Skip the backoff wait (the browser came back online, the tab became visible...). */
  reconnectNow(): void {
    if (this.stopped || this.ws !== null) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    void this.connect();
  }

  call<M = Record<string, unknown>>(
    action: string,
    message: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<Reply<M>> {
    const requestId = options.requestId ?? this.newRequestId();
    if (this.pending.has(requestId)) {
      return Promise.reject(new Error(`request ${requestId} is already waiting for its reply`));
    }
    const frame = JSON.stringify({ action, message, requestId });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise<Reply<M>>((resolve, reject) => {
      const entry: Pending = {
        action,
        frame,
        resolve: resolve as (reply: Reply) => void,
        reject,
        arm: () => {
          clearTimeout(entry.timer);
          entry.timer = setTimeout(() => {
            if (this.pending.get(requestId) !== entry) return;
            this.pending.delete(requestId);
            reject(new CallTimeout(action));
          }, timeoutMs);
        },
      };
      entry.arm();
      this.pending.set(requestId, entry);
      if (this.ws !== null && this.ws.readyState === OPEN) this.ws.send(frame);
      // otherwise it goes out as soon as a connection opens
    });
  }

  onPush(listener: (reply: Reply) => void): () => void {
    this.pushListeners.add(listener);
    return () => this.pushListeners.delete(listener);
  }

  /** `purchase-request-resp-queued` frames: where a purchase stands in the admission line. */
  onQueued(listener: (reply: Reply<Queued>) => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  onStatus(listener: (status: SocketStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Close for good: waiting calls fail with SocketClosed. */
  close(reason?: string): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) {
      ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
      ws.close(1000, 'bye');
    }
    this.failAll(new SocketClosed(reason));
    this.setStatus('closed');
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let url: string;
    try {
      url = await this.options.url();
    } catch (error) {
      this.close(error instanceof Error ? error.message : String(error));
      return;
    }
    if (this.stopped) return;
    let ws: WebSocketLike;
    try {
      ws = this.createSocket(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus('open');
      for (const p of this.pending.values()) ws.send(p.frame); // same requestIds as before
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.setStatus('reconnecting');
    const delay = this.backoffMs(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let reply: Reply;
    try {
      const parsed: unknown = JSON.parse(data);
      if (typeof parsed !== 'object' || parsed === null || !('action' in parsed)) return;
      reply = parsed as Reply;
    } catch {
      return;
    }
    const waiting = reply.requestId != null ? this.pending.get(reply.requestId) : undefined;
    if (reply.action === QUEUED) {
      waiting?.arm(); // still waiting for the outcome: the wait starts again
      for (const listener of this.queuedListeners) listener(reply as unknown as Reply<Queued>);
      return;
    }
    if (waiting !== undefined && reply.requestId != null) {
      this.pending.delete(reply.requestId);
      clearTimeout(waiting.timer);
      waiting.resolve(reply);
      return;
    }
    for (const listener of this.pushListeners) listener(reply);
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }

  private setStatus(status: SocketStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    for (const listener of this.statusListeners) listener(status);
  }
}
