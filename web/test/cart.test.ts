import { describe, expect, it } from 'vitest';
import {
  cartLines,
  formatCents,
  type Item,
  itemCount,
  MAX_QUANTITY,
  purchaseLines,
  roundHalfUp,
  setQuantity,
  streamingCost,
  totals,
} from '../src/cart';

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
    expect(totals(lines)).toEqual({
      subtotalCents: 17000,
      streamingCostCents: 1700,
      shippingCents: 500,
      totalCents: 19200,
    });
    expect(formatCents(totals(lines).totalCents)).toBe('$192.00');
  });

  it('multiplies prices and shipping by quantity', () => {
    const lines = cartLines(CATALOG, { po: 3, ls: 2 });
    expect(totals(lines)).toEqual({
      subtotalCents: 34000,
      streamingCostCents: 3400,
      shippingCents: 1500,
      totalCents: 38900,
    });
  });

  it('is all zero for an empty cart', () => {
    expect(totals([])).toEqual({
      subtotalCents: 0,
      streamingCostCents: 0,
      shippingCents: 0,
      totalCents: 0,
    });
  });

  it('rejects amounts that are not whole non-negative cents', () => {
    expect(() => totals([{ item: { ...LIVESTREAM, priceCents: 19.99 }, quantity: 1 }])).toThrow(
      RangeError,
    );
    expect(() => totals([{ item: { ...LIVESTREAM, priceCents: -1 }, quantity: 1 }])).toThrow(
      RangeError,
    );
    expect(() => totals([{ item: LIVESTREAM, quantity: 0 }])).toThrow(RangeError);
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
    expect(streamingCost(subtotal)).toBe(cost);
  });

  it('agrees with integer arithmetic for many subtotals', () => {
    for (let s = 0; s < 20_000; s += 7) {
      expect(streamingCost(s)).toBe(Math.floor((s * 10 * 2 + 100) / 200));
    }
  });

  it('stays exact beyond float precision', () => {
    expect(roundHalfUp(9_007_199_254_740_993n * 10n, 100n)).toBe(900_719_925_474_099n);
    expect(streamingCost(5_000_000_000_005)).toBe(500_000_000_001);
  });

  it('takes other rates (rates are configuration)', () => {
    expect(streamingCost(1000, { numerator: 125, denominator: 1000 })).toBe(125);
    expect(streamingCost(4, { numerator: 1, denominator: 8 })).toBe(1); // 0.5 up
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
    expect(formatCents(5)).toBe('$0.05');
    expect(formatCents(123456789)).toBe('$1,234,567.89');
    expect(formatCents(1999, 'eur')).toBe('€19.99');
  });
});
