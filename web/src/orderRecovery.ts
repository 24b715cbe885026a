/**
 * Never lose a payment's outcome. When the page loads, comes back `online`, or the socket
 * reconnects, and when a reply arrives after its call timed out, the page asks the service
 * `get-purchase {requestId}` for the order it was paying (inflight.ts) and shows what happened:
 * paid (the cart is emptied), declined (the cart stays, "try again" is a new attempt), still
 * processing (asked again shortly), or never arrived (`not_found`: paying again is safe).
 *
 * It also keeps where that order stands in the service's admission line (`line`): every
 * `purchase-request-resp-queued` for it (this tab's call, or pushes after a reload), and a
 * `get-purchase` that says `queued` (still open, like `pending`: asked again, no outcome shown).
 */

import { useCallback, useEffect, useRef, useState } from 'react';
import type { CouchpaySocket, Queued, Reply, SocketStatus } from './api/socket';
import type { Outcome, PurchaseTotals, PurchaseView } from './appState';
import {
  awaited,
  CHANGED,
  clearInFlight,
  type InFlight,
  isInFlightKey,
  readInFlight,
  recordPaid,
} from './inflight';
import type { CartApi } from './sharedCart';

const ASK_AGAIN_MS = 2_000;
const MAX_ASKS = 30;
/** Asked again this often while the order waits in line (its moves are pushed meanwhile). */
const ASK_IN_LINE_MS = 10_000;

/** Where the in-flight order stands in the admission line. */
export interface LineSpot {
  orderId: string;
  /** 1 = next, 0 = with the bank now; null = in line, place not heard yet (after a reload). */
  position: number | null;
  etaSeconds: number | null;
}

interface Options {
  userId: string;
  socket: CouchpaySocket;
  status: SocketStatus;
  cart: CartApi;
  showOutcome: (outcome: Outcome) => void;
  reloadWallet: () => Promise<void>;
}

export function useOrderRecovery({
  userId,
  socket,
  status,
  cart,
  showOutcome,
  reloadWallet,
}: Options): { pendingOrder: InFlight | null; recoverOrder: () => void; line: LineSpot | null } {
  const [pendingOrder, setPendingOrder] = useState<InFlight | null>(() => readInFlight(userId));
  const [spot, setSpot] = useState<LineSpot | null>(null);
  const asking = useRef(false);
  const asks = useRef(0);
  const { paid, newAttempt } = cart;

  useEffect(() => {
    const refresh = () => {
      const order = readInFlight(userId);
      setPendingOrder(order);
      if (order === null) setSpot(null); // its outcome is known: a new order starts afresh
    };
    const onStorage = (e: StorageEvent) => isInFlightKey(e.key, userId) && refresh();
    window.addEventListener(CHANGED, refresh);
    window.addEventListener('storage', onStorage);
    return () => {
      window.removeEventListener(CHANGED, refresh);
      window.removeEventListener('storage', onStorage);
    };
  }, [userId]);

  const settle = useCallback(
    (order: InFlight, p: PurchaseView): boolean => {
      const base = {
        lines: p.items,
        orderId: order.orderId,
        currency: p.currency,
        streamingRate: order.streamingRate,
      };
      if (p.status === 'succeeded' || p.status === 'refunded') {
        clearInFlight(userId, order.orderId);
        recordPaid(userId, order.orderId, p.transactionId);
        paid(order.orderId);
        void reloadWallet(); // a card saved with the payment
        showOutcome({ ...base, kind: 'success', totals: p });
        return true;
      }
      const unpaid = { ...base, transactionId: p.transactionId, totals: order.totals };
      if (p.status === 'failed' || p.status === 'canceled') {
        clearInFlight(userId, order.orderId);
        newAttempt(order.orderId);
        showOutcome({
          ...unpaid,
          kind: 'failure',
          code: p.failureCode ?? 'payment_failed',
          error: p.failureMessage ?? '',
        });
        return true;
      }
      if (p.status === 'requires_action') {
        // The bank's check was left unfinished (a reload during 3-D Secure): paying again with
        // the same order asks for it again, and never charges twice.
        clearInFlight(userId, order.orderId);
        showOutcome({ ...unpaid, kind: 'failure', code: 'authentication_incomplete', error: '' });
        return true;
      }
      if (p.status === 'queued') {
        // Waiting in line, still open: the line screen shows it; its moves are pushed.
        setSpot((s) =>
          s?.orderId === order.orderId
            ? s
            : { orderId: order.orderId, position: null, etaSeconds: null },
        );
        return false;
      }
      showOutcome({ ...unpaid, kind: 'processing', code: 'payment_processing', error: '' });
      return false; // pending: ask again
    },
    [userId, paid, newAttempt, reloadWallet, showOutcome],
  );

  const recoverOrder = useCallback(() => {
    const order = readInFlight(userId);
    if (order === null || awaited.has(order.orderId) || asking.current) return;
    asking.current = true;
    void (async () => {
      let again = false;
      let inLine = false;
      try {
        const reply = await socket.call('get-purchase', { requestId: order.orderId });
        if (reply.action === 'get-purchase-resp-success') {
          const purchase = (reply.message as { purchase: PurchaseView }).purchase;
          again = !settle(order, purchase);
          inLine = purchase.status === 'queued';
        } else if ((reply.message as { code?: string }).code === 'not_found') {
          clearInFlight(userId, order.orderId); // it never reached us: nothing was charged
        }
      } catch {
        /* no answer (offline): asked again on the next reconnect or `online` */
      } finally {
        asking.current = false;
      }
      if (inLine) {
        setTimeout(recoverOrder, ASK_IN_LINE_MS); // however long the wait: pushes come meanwhile
      } else if (again && asks.current < MAX_ASKS) {
        asks.current += 1;
        setTimeout(recoverOrder, ASK_AGAIN_MS);
      }
    })();
  }, [userId, socket, settle]);

  // On load and on every reconnect (the socket is open again), and when the browser is online.
  useEffect(() => {
    if (status === 'open') {
      asks.current = 0;
      recoverOrder();
    }
  }, [status, recoverOrder]);
  useEffect(() => {
    window.addEventListener('online', recoverOrder);
    return () => window.removeEventListener('online', recoverOrder);
  }, [recoverOrder]);

  // A reply to the order that came after its call gave up waiting: shown, not dropped.
  useEffect(
    () =>
      socket.onPush((reply: Reply) => {
        const order = readInFlight(userId);
        if (order === null || reply.requestId !== order.orderId) return;
        const m = reply.message as Partial<PurchaseTotals> & { code?: string; error?: string };
        const base = {
          lines: order.lines,
          orderId: order.orderId,
          currency: order.currency,
          streamingRate: order.streamingRate,
        };
        if (reply.action === 'purchase-request-resp-success' && m.transactionId) {
          clearInFlight(userId, order.orderId);
          recordPaid(userId, order.orderId, m.transactionId);
          paid(order.orderId);
          void reloadWallet();
          showOutcome({ ...base, kind: 'success', totals: m as PurchaseTotals });
        } else if (
          reply.action === 'purchase-request-resp-failure' &&
          m.transactionId &&
          m.code !== 'payment_processing'
        ) {
          clearInFlight(userId, order.orderId);
          newAttempt(order.orderId);
          showOutcome({
            ...base,
            kind: 'failure',
            code: m.code ?? 'payment_failed',
            error: m.error ?? '',
            transactionId: m.transactionId,
            totals: order.totals,
          });
        } else {
          recoverOrder(); // 3-D Secure needed, or still processing: ask what it is now
        }
      }),
    [socket, userId, recoverOrder, paid, newAttempt, reloadWallet, showOutcome],
  );

  // Where the order stands in line: from this tab's own call or pushed (another tab, a reload).
  useEffect(
    () =>
      socket.onQueued((reply: Reply<Queued>) => {
        const order = readInFlight(userId);
        if (order === null || reply.requestId !== order.orderId) return;
        const { position, etaSeconds } = reply.message;
        if (typeof position !== 'number') return;
        setSpot({ orderId: order.orderId, position, etaSeconds: etaSeconds ?? null });
      }),
    [socket, userId],
  );

  // Only while that order is the one in flight: its outcome (or another order) ends it.
  const line = spot !== null && pendingOrder?.orderId === spot.orderId ? spot : null;
  return { pendingOrder, recoverOrder, line };
}
