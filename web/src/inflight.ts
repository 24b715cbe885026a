/**
 * The order being paid, kept in localStorage until its outcome is known, so that a reload, a lost
 * connection or a reply that came too late never loses it: on load, on `online` and on every
 * reconnect the page asks `get-purchase {requestId}` and shows what happened. Shared by the tabs
 * of the browser, like the cart (an order paid in one tab is settled in the others too).
 */

import type { PurchaseLineView } from './appState';
import type { Rate, Totals } from './cart';

export interface InFlight {
  orderId: string;
  lines: PurchaseLineView[];
  currency: string;
  streamingRate: Rate;
  totals: Totals;
  startedAt: number;
}

/** The last order paid from this browser (any tab): "paid in another tab" and its receipt. */
export interface LastPaid {
  orderId: string;
  transactionId: string;
  at: number;
}

const inflightKey = (userId: string) => `couchpay.inflight.${userId}`;
const paidKey = (userId: string) => `couchpay.lastpaid.${userId}`;

/** Orders this tab is itself waiting for a reply to (the socket re-sends them on reconnect). */
export const awaited = new Set<string>();

function read<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? null : (JSON.parse(raw) as T);
  } catch {
    return null;
  }
}

export function readInFlight(userId: string): InFlight | null {
  const f = read<InFlight>(inflightKey(userId));
  return f && typeof f.orderId === 'string' && Array.isArray(f.lines) ? f : null;
}

/** Fired (on this tab's window) whenever this tab starts or clears an order; other tabs get a
 *  `storage` event. */
export const CHANGED = 'couchpay-inflight';

export function startInFlight(userId: string, order: InFlight): void {
  localStorage.setItem(inflightKey(userId), JSON.stringify(order));
  window.dispatchEvent(new Event(CHANGED));
}

export function clearInFlight(userId: string, orderId: string): void {
  if (readInFlight(userId)?.orderId !== orderId) return;
  localStorage.removeItem(inflightKey(userId));
  window.dispatchEvent(new Event(CHANGED));
}

export function isInFlightKey(key: string | null, userId: string): boolean {
  return key === inflightKey(userId);
}

export function recordPaid(userId: string, orderId: string, transactionId: string): void {
  const paid: LastPaid = { orderId, transactionId, at: Date.now() };
  localStorage.setItem(paidKey(userId), JSON.stringify(paid));
}

/** The order paid in this browser in the last `withinMs` (default 30 minutes), if any. */
export function lastPaid(userId: string, withinMs = 30 * 60_000): LastPaid | null {
  const paid = read<LastPaid>(paidKey(userId));
  if (!paid || typeof paid.transactionId !== 'string') return null;
  return Date.now() - paid.at <= withinMs ? paid : null;
}
