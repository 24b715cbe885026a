/**
 * Where the page is: a screen in the hash (`/#/wallet`), or a receipt at its own path
 * (`/purchases/<transactionId>`, which the server answers with the page itself).
 */

import type { Route } from './appState';

export const ROUTES: Route[] = ['shop', 'wallet', 'checkout', 'purchases', 'result'];
const RECEIPT_PATH = /^\/purchases\/([A-Za-z0-9_-]{1,128})\/?$/;

/** The receipt's id when the address is /purchases/<id> (and no #/screen is chosen). */
export function receiptInPath(): string | null {
  const name = window.location.hash.replace(/^#\/?/, '');
  if ((ROUTES as string[]).includes(name)) return null;
  return RECEIPT_PATH.exec(window.location.pathname)?.[1] ?? null;
}

export function routeFromLocation(): Route {
  if (receiptInPath() !== null) return 'receipt';
  const name = window.location.hash.replace(/^#\/?/, '');
  return (ROUTES as string[]).includes(name) ? (name as Route) : 'shop';
}
