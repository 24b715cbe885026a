/**
 * Cart arithmetic, in integer cents, exactly as the service charges it (SPEC "B — buy" step 4):
 *   subtotal  = Σ price × quantity
 *   streaming = subtotal × the service's streaming rate (a fraction), rounded half up to the cent
 *   shipping  = Σ shipping × quantity (physical items only; the catalog gives 0 otherwise)
 *   total     = subtotal + streaming + shipping
 * The service re-prices every purchase from its own catalog; this is what the page shows first.
 * The rate and the currency come with the catalog (`get-items`): there is no page default, so
 * the page shows no totals until it has them rather than totals the service would not charge.
 */

export interface Item {
  itemId: string;
  name: string;
  kind: string;
  priceCents: number;
  shippingCents: number;
  /** What it is (may be empty). */
  description?: string;
  /** Livestreams: when the show starts, ISO 8601 UTC; else null. */
  showStartsAt?: string | null;
  /** Limited items: units left (0 = sold out); null or absent = unlimited. */
  remaining?: number | null;
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

/** An exact fraction (10 % is 1/10): numerator >= 0, denominator > 0, both safe integers. */
export interface Rate {
  numerator: number;
  denominator: number;
}

/** What the service charges with, from the `get-items` reply. */
export interface Pricing {
  /** ISO code, lower case ("usd"). */
  currency: string;
  streamingRate: Rate;
}

/** The `get-items-resp-success` message: the items on sale and their pricing. */
export interface Catalog {
  items: Item[];
  pricing: Pricing;
}
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

function assertRate(rate: Rate): void {
  const { numerator, denominator } = rate;
  if (!Number.isSafeInteger(numerator) || numerator < 0) {
    throw new RangeError(`bad rate numerator ${numerator}`);
  }
  if (!Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new RangeError(`bad rate denominator ${denominator}`);
  }
}

export function streamingCost(subtotalCents: number, rate: Rate): number {
  assertCents(subtotalCents, 'subtotal');
  assertRate(rate);
  const cents = roundHalfUp(
    BigInt(subtotalCents) * BigInt(rate.numerator),
    BigInt(rate.denominator),
  );
  return Number(cents);
}

export function totals(lines: readonly Line[], rate: Rate): Totals {
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

/**
 * The rate as a percentage for labels: 1/10 -> "10%", 1/8 -> "12.5%", 1/32 -> "3.125%" (exact up
 * to 4 decimals); otherwise rounded half up to 2 decimals and marked: 1/3 -> "≈33.33%".
 */
export function formatRate(rate: Rate): string {
  assertRate(rate);
  const percent = 100n * BigInt(rate.numerator);
  const denominator = BigInt(rate.denominator);
  const exactDigits = 4;
  const exactScale = 10n ** BigInt(exactDigits);
  if ((percent * exactScale) % denominator === 0n) {
    return `${decimal((percent * exactScale) / denominator, exactDigits)}%`;
  }
  const rounded = roundHalfUp(percent * 100n, denominator);
  if (rounded === 0n) return '<0.01%';
  return `≈${decimal(rounded, 2)}%`;
}

/** 12500n with 3 digits -> "12.5" (no trailing zeros). */
function decimal(scaled: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const fraction = (scaled % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return `${scaled / scale}${fraction ? `.${fraction}` : ''}`;
}

/**
 * "Streaming cost (10%)". The percentage is shown only if these totals' streaming cost is the
 * subtotal at that rate: the service's totals after paying carry no rate, and if the rate changed
 * between the page's catalog and the charge the label drops the percentage instead of lying.
 */
export function streamingLabel(t: Totals, rate: Rate | null): string {
  if (rate === null) return 'Streaming cost';
  try {
    if (streamingCost(t.subtotalCents, rate) !== t.streamingCostCents) {
      return 'Streaming cost';
    }
    return `Streaming cost (${formatRate(rate)})`;
  } catch {
    return 'Streaming cost';
  }
}

/**
 * Stripe's zero-decimal currencies: amounts are whole units, not hundredths (the service's list:
 * couchpay.entrypoints.cli_catalog.ZERO_DECIMAL).
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);

/** 19200 in "usd" -> "$192.00"; amounts are the currency's smallest unit (cents), as charged. */
export function formatCents(cents: number, currency: string): string {
  const code = currency.toLowerCase();
  const digits = ZERO_DECIMAL.has(code) ? 0 : 2;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: code.toUpperCase(),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(cents / 10 ** digits);
}

const BAD_CATALOG = 'The shop’s prices could not be read. Reload the page.';

/** Reads a `get-items-resp-success` message; throws if it lacks what totals need. */
export function parseCatalog(message: Record<string, unknown>): Catalog {
  const { items, currency, streamingRate } = message;
  const rate = streamingRate as Partial<Rate> | null | undefined;
  if (
    !Array.isArray(items) ||
    typeof currency !== 'string' ||
    !/^[A-Za-z]{3}$/.test(currency) ||
    typeof rate !== 'object' ||
    rate === null ||
    typeof rate.numerator !== 'number' ||
    typeof rate.denominator !== 'number'
  ) {
    throw new Error(BAD_CATALOG);
  }
  const pricing: Pricing = {
    currency: currency.toLowerCase(),
    streamingRate: { numerator: rate.numerator, denominator: rate.denominator },
  };
  try {
    assertRate(pricing.streamingRate);
  } catch {
    throw new Error(BAD_CATALOG);
  }
  return { items: items as Item[], pricing };
}
