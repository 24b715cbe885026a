import { describe, expect, it } from 'vitest';
import {
  cartLines,
  formatCents,
  formatRate,
  type Item,
  itemCount,
  MAX_QUANTITY,
  parseCatalog,
  purchaseLines,
  type Rate,
  roundHalfUp,
  setQuantity,
  streamingCost,
  streamingLabel,
  totals,
} from '../src/cart';

/** The demo service's rate (COUCHPAY_STREAMING_RATE=10%), as get-items sends it. */
const TEN: Rate = { numerator: 1, denominator: 10 };
const EIGHTH: Rate = { numerator: 1, denominator: 8 };
const THIRD: Rate = { numerator: 1, denominator: 3 };

const LIVESTREAM: Item = {
  itemId: 'ls',
  name: 'Livestream ticket',
  kind: 'livestream',
  priceCents: 2000,
  shippingCents: 0,
};
const MEET: Item = {
  itemId: 'mg',
  name: 'Meet and greet',
  kind: 'meet_and_greet',
  priceCents: 5000,
  shippingCents: 0,
};
const POSTER: Item = {
  itemId: 'po',
  name: 'Tour poster',
  kind: 'merch',
  priceCents: 10000,
  shippingCents: 500,
};
const CATALOG = [LIVESTREAM, MEET, POSTER];

describe('totals', () => {
  it('prices the demo cart of the notes at exactly 19200 cents', () => {
    const lines = cartLines(CATALOG, { ls: 1, mg: 1, po: 1 });
    expect(totals(lines, TEN)).toEqual({
      subtotalCents: 17000,
      streamingCostCents: 1700,
      shippingCents: 500,
      totalCents: 19200,
    });
    expect(formatCents(totals(lines, TEN).totalCents, 'usd')).toBe('$192.00');
  });

  it('multiplies prices and shipping by quantity', () => {
    const lines = cartLines(CATALOG, { po: 3, ls: 2 });
    expect(totals(lines, TEN)).toEqual({
      subtotalCents: 34000,
      streamingCostCents: 3400,
      shippingCents: 1500,
      totalCents: 38900,
    });
  });

  it('is all zero for an empty cart', () => {
    expect(totals([], TEN)).toEqual({
      subtotalCents: 0,
      streamingCostCents: 0,
      shippingCents: 0,
      totalCents: 0,
    });
  });

  it('rejects amounts that are not whole non-negative cents', () => {
    expect(() =>
      totals([{ item: { ...LIVESTREAM, priceCents: 19.99 }, quantity: 1 }], TEN),
    ).toThrow(RangeError);
    expect(() => totals([{ item: { ...LIVESTREAM, priceCents: -1 }, quantity: 1 }], TEN)).toThrow(
      RangeError,
    );
    expect(() => totals([{ item: LIVESTREAM, quantity: 0 }], TEN)).toThrow(RangeError);
  });
});

describe('streaming cost: 10 % rounded half up, like the service', () => {
  it.each([
    [0, 0],
    [4, 0], // 0.4
    [5, 1], // 0.5 goes up
    [14, 1], // 1.4
    [15, 2], // 1.5 goes up
    [25, 3], // 2.5 goes up (not to even)
    [17000, 1700],
    [99_999_999, 10_000_000],
  ])('%i cents -> %i', (subtotal, cost) => {
    expect(streamingCost(subtotal, TEN)).toBe(cost);
  });

  it('agrees with integer arithmetic for many subtotals', () => {
    for (let s = 0; s < 20_000; s += 7) {
      expect(streamingCost(s, TEN)).toBe(Math.floor((s * 10 * 2 + 100) / 200));
    }
  });

  it('stays exact beyond float precision', () => {
    expect(roundHalfUp(9_007_199_254_740_993n * 10n, 100n)).toBe(900_719_925_474_099n);
    expect(streamingCost(5_000_000_000_005, TEN)).toBe(500_000_000_001);
  });

  it('takes other rates (rates are configuration)', () => {
    expect(streamingCost(1000, { numerator: 125, denominator: 1000 })).toBe(125);
    expect(streamingCost(4, { numerator: 1, denominator: 8 })).toBe(1); // 0.5 up
  });
});

/** The reference: n/d rounded half up, in BigInt (what Python's Fraction rounding gives). */
function reference(subtotal: number, rate: Rate): number {
  const n = BigInt(subtotal) * BigInt(rate.numerator);
  const d = BigInt(rate.denominator);
  return Number((2n * n + d) / (2n * d));
}

describe('the rate the service sends with get-items', () => {
  it('prices the demo cart at 1/8 (12.5 %)', () => {
    const lines = cartLines(CATALOG, { ls: 1, mg: 1, po: 1 });
    expect(totals(lines, EIGHTH)).toEqual({
      subtotalCents: 17000,
      streamingCostCents: 2125,
      shippingCents: 500,
      totalCents: 19625,
    });
  });

  it('prices the demo cart at 1/3, rounding half up to the cent', () => {
    const lines = cartLines(CATALOG, { ls: 1, mg: 1, po: 1 });
    expect(totals(lines, THIRD)).toEqual({
      subtotalCents: 17000,
      streamingCostCents: 5667, // 5666.67
      shippingCents: 500,
      totalCents: 23167,
    });
    expect(totals(cartLines(CATALOG, { ls: 2 }), THIRD).streamingCostCents).toBe(1333); // 1333.33
  });

  it.each([
    [EIGHTH, 3, 0], // 0.375
    [EIGHTH, 4, 1], // 0.5 goes up
    [EIGHTH, 12, 2], // 1.5 goes up
    [EIGHTH, 20, 3], // 2.5 goes up (not to even)
    [EIGHTH, 17000, 2125],
    [THIRD, 1, 0], // 0.33
    [THIRD, 2, 1], // 0.67
    [THIRD, 3, 1],
    [THIRD, 5, 2], // 1.67
    [THIRD, 100, 33], // 33.33
    [THIRD, 17000, 5667],
  ])('%o of %i cents -> %i', (rate, subtotal, cost) => {
    expect(streamingCost(subtotal, rate)).toBe(cost);
  });

  it('agrees with exact rounding for many subtotals and rates', () => {
    const rates = [
      TEN,
      EIGHTH,
      THIRD,
      { numerator: 2, denominator: 3 },
      { numerator: 7, denominator: 40 },
    ];
    for (const rate of rates) {
      for (let s = 0; s < 5_000; s += 1) expect(streamingCost(s, rate)).toBe(reference(s, rate));
    }
  });

  it('stays exact beyond float precision at any rate', () => {
    expect(streamingCost(Number.MAX_SAFE_INTEGER, THIRD)).toBe(3_002_399_751_580_330);
    expect(streamingCost(Number.MAX_SAFE_INTEGER, EIGHTH)).toBe(1_125_899_906_842_624);
  });

  it('does not care whether the fraction is reduced', () => {
    expect(streamingCost(12, { numerator: 2, denominator: 16 })).toBe(streamingCost(12, EIGHTH));
    expect(streamingCost(17000, { numerator: 10, denominator: 100 })).toBe(1700);
  });

  it('rejects rates that are not fractions of whole numbers', () => {
    expect(() => streamingCost(100, { numerator: 1, denominator: 0 })).toThrow(RangeError);
    expect(() => streamingCost(100, { numerator: -1, denominator: 10 })).toThrow(RangeError);
    expect(() => streamingCost(100, { numerator: 0.1, denominator: 1 })).toThrow(RangeError);
    expect(() => totals([], { numerator: 1, denominator: -8 })).toThrow(RangeError);
  });
});

describe('the streaming cost label', () => {
  it.each([
    [1, 10, '10%'],
    [10, 100, '10%'],
    [1, 8, '12.5%'],
    [1, 4, '25%'],
    [1, 32, '3.125%'],
    [1, 64, '1.5625%'],
    [0, 1, '0%'],
    [1, 1, '100%'],
    [1, 100_000, '0.001%'],
    [1, 3, '≈33.33%'],
    [2, 3, '≈66.67%'],
    [1, 7, '≈14.29%'],
    [1, 128, '≈0.78%'], // 0.78125: more than 4 decimals
    [1, 3_000_000, '<0.01%'],
  ])('%i/%i -> %s', (numerator, denominator, label) => {
    expect(formatRate({ numerator, denominator })).toBe(label);
  });

  it('shows the rate the totals were priced at', () => {
    const lines = cartLines(CATALOG, { ls: 1, mg: 1, po: 1 });
    expect(streamingLabel(totals(lines, TEN), TEN)).toBe('Streaming cost (10%)');
    expect(streamingLabel(totals(lines, EIGHTH), EIGHTH)).toBe('Streaming cost (12.5%)');
    expect(streamingLabel(totals(lines, THIRD), THIRD)).toBe('Streaming cost (≈33.33%)');
  });

  it('shows no rate rather than one the totals were not priced at', () => {
    const lines = cartLines(CATALOG, { ls: 1, mg: 1, po: 1 });
    expect(streamingLabel(totals(lines, TEN), EIGHTH)).toBe('Streaming cost');
    expect(streamingLabel(totals(lines, TEN), null)).toBe('Streaming cost');
    expect(streamingLabel(totals(lines, TEN), { numerator: 1, denominator: 0 })).toBe(
      'Streaming cost',
    );
  });
});

describe('the get-items reply', () => {
  const message = {
    items: CATALOG,
    currency: 'usd',
    streamingRate: { numerator: 1, denominator: 10 },
  };

  it('gives the items with the currency and rate the service charges with', () => {
    expect(parseCatalog(message)).toEqual({
      items: CATALOG,
      pricing: { currency: 'usd', streamingRate: TEN },
    });
    expect(
      parseCatalog({ ...message, currency: 'EUR', streamingRate: { numerator: 1, denominator: 8 } })
        .pricing,
    ).toEqual({ currency: 'eur', streamingRate: EIGHTH });
  });

  it.each([
    ['no currency', { ...message, currency: undefined }],
    ['a currency that is not a code', { ...message, currency: 'dollars' }],
    ['no rate', { ...message, streamingRate: undefined }],
    ['a rate as a number', { ...message, streamingRate: 0.1 }],
    ['a zero denominator', { ...message, streamingRate: { numerator: 1, denominator: 0 } }],
    ['a negative rate', { ...message, streamingRate: { numerator: -1, denominator: 10 } }],
    ['no items', { ...message, items: undefined }],
  ])('refuses a reply with %s (no totals rather than wrong ones)', (_, bad) => {
    expect(() => parseCatalog(bad)).toThrow(/prices could not be read/);
  });
});

describe('the cart', () => {
  it('keeps catalog order and drops items no longer sold', () => {
    const lines = cartLines(CATALOG, { po: 1, gone: 4, ls: 2 });
    expect(lines.map((l) => [l.item.itemId, l.quantity])).toEqual([
      ['ls', 2],
      ['po', 1],
    ]);
  });

  it('clamps quantities to 0..100 and removes zero', () => {
    let q = setQuantity({}, 'ls', 3);
    expect(q).toEqual({ ls: 3 });
    q = setQuantity(q, 'ls', 1000);
    expect(q.ls).toBe(MAX_QUANTITY);
    q = setQuantity(q, 'po', 2.7);
    expect(q.po).toBe(2);
    q = setQuantity(q, 'ls', 0);
    expect(q).toEqual({ po: 2 });
    expect(setQuantity(q, 'po', Number.NaN)).toEqual({});
    expect(setQuantity(q, 'po', -3)).toEqual({});
    expect(itemCount({ ls: 2, po: 3 })).toBe(5);
  });

  it('sends the wire format of purchase-request', () => {
    expect(purchaseLines(cartLines(CATALOG, { mg: 2 }))).toEqual([
      { item_id: 'mg', price_cents: 5000, quantity: 2 },
    ]);
  });

  it('formats cents as dollars', () => {
    expect(formatCents(5, 'usd')).toBe('$0.05');
    expect(formatCents(123456789, 'usd')).toBe('$1,234,567.89');
  });

  it('formats cents in the currency of the get-items reply', () => {
    expect(formatCents(1999, 'eur')).toBe('€19.99');
    expect(formatCents(1999, 'EUR')).toBe('€19.99');
    expect(formatCents(19625, 'gbp')).toBe('£196.25');
    // Stripe's zero-decimal currencies are already whole units
    expect(formatCents(2000, 'jpy')).toBe('¥2,000');
  });
});
