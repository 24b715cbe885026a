/**
 * Cart arithmetic, in integer cents, exactly as the service charges it (SPEC "B — buy" step 4):
 *   subtotal  = Σ price × quantity
 *   streaming = 10 % of the subtotal, rounded half up to the cent
 *   shipping  = Σ shipping × quantity (physical items only; the catalog gives 0 otherwise)
 *   total     = subtotal + streaming + shipping
 * The service re-prices every purchase from its own catalog; this is what the page shows first.
 */

export interface Item {
  itemId: string;
  name: string;
  kind: string;
  priceCents: number;
  shippingCents: number;
}

/** itemId -> quantity (1..MAX_QUANTITY); items not in the cart are absent. */
export type Quantities = Readonly<Record<string, number>>;

export interface Line {
  item: Item;
  quantity: number;
}

export interface Totals {
  subtotalCents: number;
  streamingCostCents: number;
  shippingCents: number;
  totalCents: number;
}

/** The wire format of `purchase-request` items. */
export interface PurchaseLine {
  item_id: string;
  price_cents: number;
  quantity: number;
}

export interface Rate {
  numerator: number;
  denominator: number;
}

/** The service's streaming rate (couchpay.bootstrap: Fraction(10, 100)). */
export const STREAMING_RATE: Rate = { numerator: 10, denominator: 100 };
export const MAX_QUANTITY = 100; // messages.ItemLine: quantity <= 100
export const MAX_LINES = 50; // messages.PurchaseRequest: at most 50 items

function assertCents(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative whole number of cents, got ${value}`);
  }
}

/** numerator / denominator rounded half up (both non-negative integers), exactly (BigInt). */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new RangeError('amounts are never negative');
  const whole = numerator / denominator;
  const rest = numerator % denominator;
  return 2n * rest >= denominator ? whole + 1n : whole;
}

export function streamingCost(subtotalCents: number, rate: Rate = STREAMING_RATE): number {
  assertCents(subtotalCents, 'subtotal');
  const cents = roundHalfUp(
    BigInt(subtotalCents) * BigInt(rate.numerator),
    BigInt(rate.denominator),
  );
  return Number(cents);
}

export function totals(lines: readonly Line[], rate: Rate = STREAMING_RATE): Totals {
  let subtotal = 0;
  let shipping = 0;
  for (const { item, quantity } of lines) {
    assertCents(item.priceCents, `price of ${item.name}`);
    assertCents(item.shippingCents, `shipping of ${item.name}`);
    if (!Number.isInteger(quantity) || quantity < 1)
      throw new RangeError(`bad quantity ${quantity}`);
    subtotal += item.priceCents * quantity;
    shipping += item.shippingCents * quantity;
  }
  assertCents(subtotal, 'subtotal');
  assertCents(shipping, 'shipping');
  const streaming = streamingCost(subtotal, rate);
  return {
    subtotalCents: subtotal,
    streamingCostCents: streaming,
    shippingCents: shipping,
    totalCents: subtotal + streaming + shipping,
  };
}

/** The cart's lines in catalog order; quantities of items no longer sold are dropped. */
export function cartLines(items: readonly Item[], quantities: Quantities): Line[] {
  return items
    .filter((item) => (quantities[item.itemId] ?? 0) > 0)
    .map((item) => ({ item, quantity: quantities[item.itemId] ?? 0 }));
}

export function setQuantity(quantities: Quantities, itemId: string, quantity: number): Quantities {
  const q = Math.max(
    0,
    Math.min(MAX_QUANTITY, Math.trunc(Number.isFinite(quantity) ? quantity : 0)),
  );
  const next: Record<string, number> = { ...quantities };
  if (q === 0) delete next[itemId];
  else next[itemId] = q;
  return next;
}

export function itemCount(quantities: Quantities): number {
  return Object.values(quantities).reduce((sum, q) => sum + q, 0);
}

export function purchaseLines(lines: readonly Line[]): PurchaseLine[] {
  return lines.map(({ item, quantity }) => ({
    item_id: item.itemId,
    price_cents: item.priceCents,
    quantity,
  }));
}

/** 19200 -> "$192.00" (the currency the service charges in, "usd" by default). */
export function formatCents(cents: number, currency = 'usd'): string {
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: currency.toUpperCase(),
  }).format(cents / 100);
}
