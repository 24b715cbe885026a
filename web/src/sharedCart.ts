/**
 * The cart, shared by every tab of this browser (localStorage), with the order's requestId.
 *
 * `orderId` is sent as the `requestId` of `purchase-request`: the service's idempotency key. It is
 * part of the cart, so two tabs paying the same cart send the same id and the service charges
 * once; a reconnect retries with it too. It changes whenever the cart changes, after a payment
 * went through (the cart is emptied) and after a payment definitely failed (so "try again" is a
 * new attempt). A payment still processing keeps it: paying again can only return that outcome.
 */

import { useCallback, useEffect, useMemo, useState } from 'react';
import { newUuid } from './api/socket';
import { type Quantities, setQuantity } from './cart';

export interface SharedCart {
  orderId: string;
  quantities: Quantities;
}

const key = (userId: string): string => `couchpay.cart.${userId}`;

function fresh(quantities: Quantities = {}): SharedCart {
  return { orderId: newUuid(), quantities };
}

export function readCart(userId: string): SharedCart {
  try {
    const raw = localStorage.getItem(key(userId));
    if (raw !== null) {
      const c = JSON.parse(raw) as Partial<SharedCart>;
      if (typeof c.orderId === 'string' && typeof c.quantities === 'object' && c.quantities) {
        return { orderId: c.orderId, quantities: c.quantities };
      }
    }
  } catch {
    /* a broken entry: start again */
  }
  const cart = fresh();
  writeCart(userId, cart);
  return cart;
}

function writeCart(userId: string, cart: SharedCart): void {
  localStorage.setItem(key(userId), JSON.stringify(cart));
}

export interface CartApi {
  cart: SharedCart;
  setQuantity: (itemId: string, quantity: number) => void;
  /** After a successful payment: an empty cart with a new order id. */
  paid: (orderId: string) => void;
  /** After a failed payment: the same items with a new order id. */
  newAttempt: (orderId: string) => void;
}

export function useSharedCart(userId: string): CartApi {
  const [cart, setCart] = useState<SharedCart>(() => readCart(userId));

  useEffect(() => {
    setCart(readCart(userId));
    const onStorage = (event: StorageEvent): void => {
      if (event.key === key(userId)) setCart(readCart(userId));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [userId]);

  const update = useCallback(
    (change: (current: SharedCart) => SharedCart | null) => {
      const current = readCart(userId); // the latest, whichever tab wrote it
      const next = change(current);
      if (next === null) return;
      writeCart(userId, next);
      setCart(next);
    },
    [userId],
  );

  const setQty = useCallback(
    (itemId: string, quantity: number) =>
      update((c) => fresh(setQuantity(c.quantities, itemId, quantity))),
    [update],
  );
  const paid = useCallback(
    (orderId: string) => update((c) => (c.orderId === orderId ? fresh() : null)),
    [update],
  );
  const newAttempt = useCallback(
    (orderId: string) => update((c) => (c.orderId === orderId ? fresh(c.quantities) : null)),
    [update],
  );
  return useMemo(
    () => ({ cart, setQuantity: setQty, paid, newAttempt }),
    [cart, setQty, paid, newAttempt],
  );
}
