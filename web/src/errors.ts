/** Failure codes (the service's and Stripe's) in plain words for the person paying. */

import { CallTimeout, SocketClosed } from './api/socket';

const PLAIN: Record<string, string> = {
  card_declined: 'Your bank declined this card. Try another card, or call your bank.',
  insufficient_funds: 'The card has insufficient funds. Try another card.',
  expired_card: 'This card has expired. Use another card.',
  incorrect_cvc: 'The security code (CVC) is wrong. Check the 3 digits on the back of the card.',
  incorrect_number: 'The card number is wrong. Check it and try again.',
  processing_error: 'The bank had a problem processing the card. Try again in a moment.',
  payment_intent_authentication_failure:
    'Your bank’s security check (3-D Secure) was not passed, so nothing was charged. Try again or use another card.',
  authentication_incomplete:
    'Your bank’s security check was not finished. Press Pay to do it again; you will not be charged twice.',
  card_not_valid:
    'This card can no longer be used (it expired or was removed). Choose another card.',
  card_checks_failed: 'The bank could not verify this card’s details (security code or ZIP).',
  item_unavailable:
    'Something in your cart is no longer for sale. We refreshed the shop; check your cart.',
  price_mismatch:
    'A price changed while you were shopping. We refreshed the prices; check the total and pay again.',
  request_id_reused:
    'This order was already sent with a different card, maybe from another tab. Check Purchases before paying again.',
  payment_processing:
    'The payment is still being processed. You will not be charged twice; this page updates when it is settled.',
  unauthorized: 'Your session has ended. Sign in again.',
  not_found: 'We could not find that. It may have been removed; reload the page.',
  bad_request: 'The page sent something the server could not read. Reload the page and try again.',
  internal_error:
    'Something went wrong on our side. Nothing was charged twice; try again in a moment.',
  shipping_address_required: 'The poster ships to you: enter the address to send it to.',
  amount_too_small:
    'The total is below the smallest amount a card can be charged. Add something to your cart.',
  amount_too_large: 'The total is above what a card can be charged at once. Split your order.',
  payment_failed: 'The payment did not go through, so nothing was charged. Try again.',
  payment_rejected:
    'The payment provider refused this payment. Nothing was charged; try again or contact us.',
  busy: 'So many fans are paying right now that your payment could not wait in line any longer. Nothing was charged. Try again in a few minutes.',
  sold_out:
    'Something in your cart just sold out, so nothing was charged. We refreshed the shop; check your cart.',
  rate_limited: 'Too many requests at once. Wait a few seconds and try again.',
  frame_too_large: 'The cart is too large to send. Remove some items and try again.',
  unknown_action: 'The page is out of date. Reload it and try again.',
  generic_decline: 'Your bank declined this card. Try another card, or call your bank.',
  do_not_honor: 'Your bank declined this card. Try another card, or call your bank.',
  lost_card: 'Your bank declined this card. Try another card, or call your bank.',
  stolen_card: 'Your bank declined this card. Try another card, or call your bank.',
  fraudulent: 'Your bank declined this card. Try another card, or call your bank.',
  card_velocity_exceeded: 'The card reached its spending limit. Try another card.',
  invalid_cvc: 'The security code (CVC) is wrong. Check the 3 digits on the back of the card.',
  invalid_expiry_month: 'The expiry month is wrong. Check the card.',
  invalid_expiry_year: 'The expiry year is wrong. Check the card.',
  incorrect_zip: 'The ZIP or postal code does not match the card. Check it and try again.',
  authentication_required:
    'Your bank wants to confirm this payment. Press Pay again to do its security check.',
};

/** Every failure code the page has its own words for (tests check each has a sentence). */
export const KNOWN_CODES = Object.keys(PLAIN);

export interface Failure {
  code?: string | null;
  error?: string | null;
}

export function plainWords(failure: Failure | undefined): string {
  const code = failure?.code ?? '';
  return PLAIN[code] ?? failure?.error ?? 'Something went wrong. Try again.';
}

const HEADINGS: Record<string, string> = {
  busy: 'Not charged — too many fans at once',
  sold_out: 'Sold out — not charged',
};

/** The heading of a purchase that was not paid: "Payment failed" unless the code says more
 * precisely what happened (the line was full, the item sold out: nothing failed at the bank). */
export function failureHeading(failure: Failure | undefined): string {
  return HEADINGS[failure?.code ?? ''] ?? 'Payment failed';
}

/** Errors thrown by the socket client (no reply at all). */
export function connectionTrouble(error: unknown): string {
  if (error instanceof CallTimeout) {
    return 'The server did not answer in time. Nothing is charged twice: check Purchases, then try again.';
  }
  if (error instanceof SocketClosed) return 'You are signed out. Sign in again.';
  return error instanceof Error ? error.message : String(error);
}

export function brandName(brand: string | null | undefined): string {
  const names: Record<string, string> = {
    visa: 'Visa',
    mastercard: 'Mastercard',
    amex: 'American Express',
    discover: 'Discover',
    diners: 'Diners Club',
    jcb: 'JCB',
    unionpay: 'UnionPay',
  };
  if (!brand) return 'Card';
  return names[brand.toLowerCase()] ?? brand.charAt(0).toUpperCase() + brand.slice(1);
}
