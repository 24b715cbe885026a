/**
 * Stripe.js for this server: real Stripe.js when /config names js.stripe.com; offline,
 * localstripe's stand-in, extended by ./offlineStripeShim (loaded only then).
 */

import type { Stripe } from '@stripe/stripe-js';
import { loadStripe } from '@stripe/stripe-js/pure'; // /pure: nothing is fetched on import
import type { PageConfig } from '../api/http';

export function isRealStripeJs(url: string): boolean {
  try {
    return new URL(url).hostname === 'js.stripe.com';
  } catch {
    return false;
  }
}

export async function loadStripeFromConfig(config: PageConfig): Promise<Stripe | null> {
  if (!isRealStripeJs(config.stripeJsUrl)) {
    const { installOfflineStripe } = await import('./offlineStripeShim');
    await installOfflineStripe(config.stripeJsUrl); // window.Stripe: loadStripe uses it
  }
  return loadStripe(config.publishableKey);
}
