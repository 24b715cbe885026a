/** The checkout's pieces that are not the payment form itself. */

import type { RefObject } from 'react';
import { useApp, type WalletCard } from '../appState';
import { CardLabel, expiry } from '../components/CardBrand';
import { lastPaid } from '../inflight';

/** No cart to pay: still loading, or empty (and, if just paid here or in another tab, why). */
export function NothingToPay({
  heading,
  loading,
  empty,
}: {
  heading: RefObject<HTMLHeadingElement | null>;
  loading: boolean;
  empty: boolean;
}) {
  const app = useApp();
  const { go, session } = app;
  const paidHere = empty ? lastPaid(session.userId) : null;
  return (
    <div className="screen narrow-screen">
      <h1 ref={heading} tabIndex={-1}>
        Checkout
      </h1>
      <div className="panel">
        {loading ? (
          <p>Loading your cart…</p>
        ) : paidHere ? (
          <p role="status">
            Your order is paid (maybe in another tab or window), so your cart is empty now.{' '}
            <button
              type="button"
              className="link"
              onClick={() => app.openReceipt(paidHere.transactionId)}
            >
              View the receipt
            </button>
          </p>
        ) : (
          <p>Your cart is empty.</p>
        )}
        <button type="button" className="primary" onClick={() => go('shop')}>
          Back to the shop
        </button>
      </div>
    </div>
  );
}

export function SavedCardChoice({
  card,
  checked,
  onPick,
}: {
  card: WalletCard;
  checked: boolean;
  onPick: () => void;
}) {
  return (
    <li>
      <label className={`choice${checked ? ' checked' : ''}`}>
        <input type="radio" name="source" value={card.id} checked={checked} onChange={onPick} />
        <CardLabel brand={card.brand} lastFour={card.lastFour} />
        <span className="muted">expires {expiry(card.expMonth, card.expYear)}</span>
        {card.isDefault && <span className="badge">Default</span>}
      </label>
    </li>
  );
}
