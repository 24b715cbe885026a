import { type KeyboardEvent, useEffect, useState } from 'react';
import { useApp } from '../appState';
import { Lines, Totals } from '../components/Totals';
import {
  cartLines,
  formatCents,
  formatRate,
  type Item,
  itemCount,
  MAX_QUANTITY,
  type Rate,
  streamingCost,
  totals,
} from '../cart';
import { showTimeFormat } from '../components/ShowTime';
import { focusSoon, useScreen } from '../screen';

const KIND: Record<string, string> = {
  livestream: 'Watch the full concert live, in HD, from your couch.',
  meet_and_greet: 'A video call with the band after the show.',
  merch: 'Official tour poster, shipped to your door.',
};

export function Shop() {
  const { catalog, reloadCatalog, cart, go } = useApp();
  const items = catalog.data?.items ?? [];
  const pricing = catalog.data?.pricing ?? null; // set with the items: no items, no totals
  const lines = cartLines(items, cart.cart.quantities);
  const count = itemCount(cart.cart.quantities);
  const heading = useScreen('Shop');

  return (
    <div className="screen">
      <h1 ref={heading} tabIndex={-1}>
        Shop
      </h1>
      {pricing && (
        <p className="muted fee-note" id="fee-note">
          Every order adds a {formatRate(pricing.streamingRate)} streaming cost, which pays for the
          live video stream; the prices below show it.
        </p>
      )}
      <div className="two-col">
        <section aria-labelledby="catalog-title">
          <h2 id="catalog-title" className="sr-only">
            Tonight’s concert
          </h2>
          {catalog.loading && items.length === 0 && <p className="muted">Loading the shop…</p>}
          {catalog.error && (
            <p className="alert" role="alert">
              {catalog.error}{' '}
              <button type="button" className="link" onClick={() => void reloadCatalog()}>
                Try again
              </button>
            </p>
          )}
          <ul className="catalog">
            {pricing &&
              items.map((item) => (
                <ItemCard
                  key={item.itemId}
                  item={item}
                  currency={pricing.currency}
                  rate={pricing.streamingRate}
                  quantity={cart.cart.quantities[item.itemId] ?? 0}
                  setQuantity={(q) => cart.setQuantity(item.itemId, q)}
                />
              ))}
          </ul>
        </section>
        <aside className="panel cart" aria-labelledby="cart-title">
          <h2 id="cart-title">Your cart</h2>
          {lines.length === 0 || pricing === null ? (
            <p className="muted">Your cart is empty. Add a ticket, a meet and greet or a poster.</p>
          ) : (
            <>
              <Lines
                currency={pricing.currency}
                lines={lines.map((l) => ({
                  key: l.item.itemId,
                  name: l.item.name,
                  quantity: l.quantity,
                  lineCents: l.item.priceCents * l.quantity,
                }))}
              />
              <Totals
                totals={totals(lines, pricing.streamingRate)}
                currency={pricing.currency}
                rate={pricing.streamingRate}
              />
            </>
          )}
          <button
            type="button"
            className="primary wide"
            disabled={count === 0}
            onClick={() => go('checkout')}
          >
            Go to checkout
          </button>
        </aside>
      </div>
    </div>
  );
}

function ItemCard({
  item,
  quantity,
  setQuantity,
  currency,
  rate,
}: {
  item: Item;
  quantity: number;
  setQuantity: (quantity: number) => void;
  currency: string;
  rate: Rate;
}) {
  const qtyId = `qty-${item.itemId}`;
  const addId = `add-${item.itemId}`;
  const money = (cents: number) => formatCents(cents, currency);
  const fee = streamingCost(item.priceCents, rate);
  const starts = item.showStartsAt ? new Date(item.showStartsAt) : null;
  const remaining = typeof item.remaining === 'number' ? item.remaining : null; // null: unlimited
  const soldOut = remaining !== null && remaining <= 0;
  // The control that replaces the one pressed gets the focus (Add -> quantity, last − -> Add).
  const change = (next: number) => {
    setQuantity(next);
    if (quantity === 0 && next > 0) focusSoon(qtyId);
    if (quantity > 0 && next === 0) focusSoon(addId);
  };
  return (
    <li className={`panel item kind-${item.kind}`}>
      <div className="item-art" aria-hidden="true">
        {item.kind === 'livestream' ? '▶' : item.kind === 'meet_and_greet' ? '☺' : '▤'}
      </div>
      <div className="item-body">
        <h3>{item.name}</h3>
        <p className="muted">{item.description || KIND[item.kind] || ''}</p>
        {starts && (
          <p className="show-time">
            Show starts{' '}
            <time dateTime={item.showStartsAt ?? ''}>{showTimeFormat.format(starts)}</time>
          </p>
        )}
        <p className="price">
          {money(item.priceCents + fee)}{' '}
          <span className="muted">
            all-in ({money(item.priceCents)} + {money(fee)} streaming cost)
          </span>
          {item.shippingCents > 0 && (
            <span className="muted"> + {money(item.shippingCents)} shipping</span>
          )}
        </p>
        {remaining !== null && (
          <p className={`stock${soldOut ? ' sold-out' : ''}`}>
            {soldOut ? 'Sold out' : `${remaining} left`}
          </p>
        )}
      </div>
      <div className="item-actions">
        {quantity === 0 && soldOut ? (
          <button
            type="button"
            id={addId}
            className="secondary"
            disabled
            aria-label={`Sold out: ${item.name}`}
          >
            Sold out
          </button>
        ) : quantity === 0 ? (
          <button
            type="button"
            id={addId}
            className="secondary"
            onClick={() => change(1)}
            aria-label={`Add to cart: ${item.name}`}
          >
            Add to cart
          </button>
        ) : (
          <div className="stepper" role="group" aria-label={`Quantity of ${item.name}`}>
            <button
              type="button"
              onClick={() => change(quantity - 1)}
              aria-label={quantity === 1 ? `− Remove ${item.name}` : `− One less ${item.name}`}
            >
              −
            </button>
            <QuantityInput
              id={qtyId}
              name={item.name}
              quantity={quantity}
              onApply={(q) => change(q)}
            />
            <button
              type="button"
              onClick={() => change(quantity + 1)}
              disabled={quantity >= MAX_QUANTITY || (remaining !== null && quantity >= remaining)}
              aria-label={`+ One more ${item.name}`}
            >
              +
            </button>
          </div>
        )}
      </div>
    </li>
  );
}

/** Typing is a draft ("", "3"...): applied on Enter or when leaving the box, never mid-edit. */
function QuantityInput({
  id,
  name,
  quantity,
  onApply,
}: {
  id: string;
  name: string;
  quantity: number;
  onApply: (quantity: number) => void;
}) {
  const [draft, setDraft] = useState(String(quantity));
  useEffect(() => setDraft(String(quantity)), [quantity]);
  const apply = () => {
    const wanted = Number.parseInt(draft, 10);
    if (!Number.isFinite(wanted) || wanted < 0) {
      setDraft(String(quantity)); // not a number: keep what was there
      return;
    }
    const next = Math.min(wanted, MAX_QUANTITY);
    setDraft(String(next));
    if (next !== quantity) onApply(next);
  };
  return (
    <>
      <label className="sr-only" htmlFor={id}>
        Quantity of {name}
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={0}
        max={MAX_QUANTITY}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={apply}
        onKeyDown={(e: KeyboardEvent<HTMLInputElement>) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            apply();
          }
        }}
      />
    </>
  );
}
