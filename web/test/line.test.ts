import { describe, expect, it } from 'vitest';
import { lineWords } from '../src/components/LineStatus';
import { KNOWN_CODES, failureHeading, plainWords } from '../src/errors';

describe('the line screen', () => {
  it('says the place and the wait, and when the payment is with the bank', () => {
    expect(lineWords({ orderId: 'o', position: 3, etaSeconds: 12 })).toBe(
      "You're in line — #3, about 12 s",
    );
    expect(lineWords({ orderId: 'o', position: 40, etaSeconds: 600 })).toBe(
      "You're in line — #40, about 10 min",
    );
    expect(lineWords({ orderId: 'o', position: 0, etaSeconds: 1 })).toBe(
      'Your payment is with the bank now…',
    );
    expect(lineWords({ orderId: 'o', position: null, etaSeconds: null })).toBe(
      "You're in line to pay…",
    );
  });
});

describe('showtime failures in plain words', () => {
  it.each(['busy', 'sold_out'])('%s has its own sentence, without the code', (code) => {
    expect(KNOWN_CODES).toContain(code);
    const words = plainWords({ code, error: code });
    expect(words).not.toContain(code);
    expect(words).toMatch(/nothing was charged/i);
  });
});

describe('the heading of an unpaid purchase', () => {
  it('says "not charged" when the line was full or the item sold out, not "failed"', () => {
    expect(failureHeading({ code: 'busy' })).toMatch(/not charged/i);
    expect(failureHeading({ code: 'sold_out' })).toMatch(/sold out/i);
    expect(failureHeading({ code: 'busy' })).not.toMatch(/failed/i);
    expect(failureHeading({ code: 'card_declined' })).toBe('Payment failed');
    expect(failureHeading(undefined)).toBe('Payment failed');
  });
});
