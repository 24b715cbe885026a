import { useApp } from '../appState';
import { Lines, Totals } from '../components/Totals';
import { cartLines, formatCents, type Item, itemCount, MAX_QUANTITY, totals } from '../cart';

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

  return (
    <div className="screen">
      <h1>Shop</h1>
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
}: {
  item: Item;
  quantity: number;
  setQuantity: (quantity: number) => void;
  currency: string;
}) {
  const qtyId = `qty-${item.itemId}`;
  return (
    <li className={`panel item kind-${item.kind}`}>
      <div className="item-art" aria-hidden="true">
        {item.kind === 'livestream' ? '▶' : item.kind === 'meet_and_greet' ? '☺' : '▤'}
      </div>
      <div className="item-body">
        <h3>{item.name}</h3>
        <p className="muted">{KIND[item.kind] ?? item.kind}</p>
        <p className="price">
          {formatCents(item.priceCents, currency)}
          {item.shippingCents > 0 && (
            <span className="muted"> + {formatCents(item.shippingCents, currency)} shipping</span>
          )}
        </p>
      </div>
      <div className="item-actions">
        {quantity === 0 ? (
          <button
            type="button"
            className="secondary"
            onClick={() => setQuantity(1)}
            aria-label={`Add ${item.name} to cart`}
          >
            Add to cart
          </button>
        ) : (
          <div className="stepper" role="group" aria-label={`Quantity of ${item.name}`}>
            <button
              type="button"
              onClick={() => setQuantity(quantity - 1)}
              aria-label={quantity === 1 ? `Remove ${item.name}` : `One less ${item.name}`}
            >
              −
            </button>
            <label className="sr-only" htmlFor={qtyId}>
              Quantity of {item.name}
            </label>
            <input
              id={qtyId}
              type="number"
              inputMode="numeric"
              min={0}
              max={MAX_QUANTITY}
              value={quantity}
              onChange={(e) => setQuantity(Number(e.target.value))}
            />
            <button
              type="button"
              onClick={() => setQuantity(quantity + 1)}
              disabled={quantity >= MAX_QUANTITY}
              aria-label={`One more ${item.name}`}
            >
              +
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
