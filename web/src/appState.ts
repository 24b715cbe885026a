/** What every signed-in screen shares: the socket, the catalog, the wallet, the cart. */

import { createContext, useContext } from 'react';
import type { PageConfig, Session } from './api/http';
import type { CouchpaySocket, SocketStatus } from './api/socket';
import type { Catalog, Rate, Totals } from './cart';
import type { InFlight } from './inflight';
import type { LineSpot } from './orderRecovery';
import type { CartApi } from './sharedCart';

export interface WalletCard {
  id: string;
  lastFour: string;
  brand: string;
  expMonth: number;
  expYear: number;
  nameOnCard: string | null;
  status: string;
  isDefault?: boolean;
}

export interface Loadable<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

export interface PurchaseTotals {
  transactionId: string;
  status: string;
  totalCents: number;
  subtotalCents: number;
  streamingCostCents: number;
  shippingCents: number;
  currency: string;
  card: { brand: string | null; lastFour: string | null };
}

export interface PurchaseLineView {
  itemId: string;
  name: string;
  unitPriceCents: number;
  quantity: number;
  shippingCents?: number;
}

export interface ShippingAddressView {
  name: string;
  line1: string;
  line2: string | null;
  city: string;
  state: string | null;
  postalCode: string;
  country: string;
}

/** A purchase as `get-purchase` and `get-user-purchases` give it: everything a receipt shows. */
export interface PurchaseView extends PurchaseTotals {
  requestId: string;
  createdAt: string;
  updatedAt: string;
  items: PurchaseLineView[];
  failureCode: string | null;
  failureMessage: string | null;
  refundedCents: number;
  shippingAddress: ShippingAddressView | null;
  receiptEmail: string | null;
}

/** What every outcome keeps of the checkout: its lines and the pricing the page showed. */
interface OutcomeBase {
  lines: PurchaseLineView[];
  orderId: string;
  /** The catalog's currency and rate at checkout (the service's totals carry no rate). */
  currency: string;
  streamingRate: Rate;
}

/** The outcome shown on the result screen (seed step B11: success or error). */
export type Outcome =
  | (OutcomeBase & { kind: 'success'; totals: PurchaseTotals })
  | (OutcomeBase & {
      kind: 'failure' | 'processing';
      code: string;
      error: string;
      transactionId: string | null;
      totals: Totals;
    });

export type Route = 'shop' | 'wallet' | 'checkout' | 'purchases' | 'result' | 'receipt';

export interface AppState {
  config: PageConfig;
  session: Session;
  socket: CouchpaySocket;
  status: SocketStatus;
  /** The items on sale with the currency and streaming rate (get-items); null until it came. */
  catalog: Loadable<Catalog>;
  reloadCatalog: () => Promise<void>;
  wallet: Loadable<WalletCard[]>;
  reloadWallet: () => Promise<void>;
  cart: CartApi;
  stripeError: string | null;
  outcome: Outcome | null;
  showOutcome: (outcome: Outcome) => void;
  go: (route: Route) => void;
  /** Show the receipt of a purchase at its own URL, /purchases/<transactionId>. */
  openReceipt: (transactionId: string) => void;
  /** The order being paid whose outcome is not known yet (any tab), if any. */
  pendingOrder: InFlight | null;
  /** Ask the service what became of the pending order (after a timeout, a reload, ...). */
  recoverOrder: () => void;
  /** Where the pending order stands in the service's admission line, while it waits there. */
  line: LineSpot | null;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (state === null) throw new Error('useApp outside <AppContext>');
  return state;
}
