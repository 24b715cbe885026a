import { describe, expect, it } from 'vitest';
import {
  asRealConfirmResult,
  cardBrand,
  luhn,
  validateCard,
} from '../src/stripe/offlineStripeShim';

const NOW = new Date(2026, 10, 22); // November 2026
const card = (over: Partial<Parameters<typeof validateCard>[0]> = {}) => ({
  number: '4242 4242 4242 4242',
  expMonth: '12',
  expYear: '30',
  cvc: '123',
  postalCode: '10001',
  ...over,
});
const check = (over: Partial<Parameters<typeof validateCard>[0]> = {}, requirePostalCode = true) =>
  validateCard(card(over), { requirePostalCode, now: NOW });

describe('offline card checks (what Stripe.js checks before anything leaves the page)', () => {
  it('accepts the test cards and sends digits only, with a four-digit year', () => {
    expect(check()).toEqual({
      ok: true,
      brand: 'visa',
      number: '4242424242424242',
      expMonth: 12,
      expYear: 2030,
      cvc: '123',
      postalCode: '10001',
    });
    for (const n of [
      '4111111111111111',
      '4000002500003155',
      '4000000000000341',
      '4000000000000002',
    ]) {
      expect(check({ number: n }).ok).toBe(true);
    }
  });

  it('uses the Luhn check', () => {
    expect(luhn('4242424242424242')).toBe(true);
    expect(luhn('4242424242424241')).toBe(false);
    expect(check({ number: '4242424242424241' })).toMatchObject({
      ok: false,
      code: 'invalid_number',
      incomplete: false,
    });
  });

  it('says what is incomplete or wrong, field by field', () => {
    expect(check({ number: '4242' })).toMatchObject({
      code: 'incomplete_number',
      incomplete: true,
    });
    expect(check({ number: '42424242424242424' })).toMatchObject({ code: 'invalid_number' });
    expect(check({ expYear: '3' })).toMatchObject({ code: 'incomplete_expiry' });
    expect(check({ expMonth: '13' })).toMatchObject({ code: 'invalid_expiry_month' });
    expect(check({ cvc: '12' })).toMatchObject({
      code: 'incomplete_cvc',
      message: 'Your card’s security code is incomplete.',
    });
    expect(check({ cvc: '12a' })).toMatchObject({ code: 'invalid_cvc' });
    expect(check({ postalCode: '' })).toMatchObject({ code: 'incomplete_zip' });
    expect(check({ postalCode: '' }, false).ok).toBe(true);
  });

  it('refuses an expiry in the past', () => {
    expect(check({ expYear: '25' })).toMatchObject({ code: 'invalid_expiry_year_past' });
    expect(check({ expMonth: '10', expYear: '26' })).toMatchObject({
      code: 'invalid_expiry_month_past',
    });
    expect(check({ expMonth: '11', expYear: '26' }).ok).toBe(true); // this month still counts
  });

  it('knows the brands by their first digits', () => {
    expect(cardBrand('4242')).toBe('visa');
    expect(cardBrand('5555')).toBe('mastercard');
    expect(cardBrand('2223')).toBe('mastercard');
    expect(cardBrand('3782')).toBe('amex');
    expect(cardBrand('6011')).toBe('discover');
    expect(cardBrand('9999')).toBe('unknown');
  });
});

describe('confirmCardPayment results, as real Stripe.js gives them', () => {
  it('passes a successful authentication through', () => {
    const ok = { paymentIntent: { id: 'pi_1', status: 'succeeded' } };
    expect(asRealConfirmResult(ok)).toBe(ok);
  });

  it('turns a failed challenge into an error', () => {
    const failed = asRealConfirmResult({
      paymentIntent: { id: 'pi_1', status: 'requires_payment_method' },
    });
    expect(failed.paymentIntent).toBeUndefined();
    expect(failed.error).toMatchObject({ code: 'payment_intent_authentication_failure' });
  });

  it('keeps errors as they are', () => {
    const error = { error: { message: 'Bad request' } };
    expect(asRealConfirmResult(error)).toBe(error);
  });
});
