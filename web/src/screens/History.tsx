import { useCallback, useEffect, useState } from 'react';
import { type PurchaseView, useApp } from '../appState';
import { CardLabel } from '../components/CardBrand';
import { Spinner } from '../components/Spinner';
import { formatCents } from '../cart';
import { connectionTrouble, type Failure, plainWords } from '../errors';
import { focusSoon, useScreen } from '../screen';
import { STATUS } from './Receipt';

export const PAGE_SIZE = 10;

const dateFormat = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });

export function History() {
  const { socket, go } = useApp();
  const [purchases, setPurchases] = useState<PurchaseView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (from: string | null) => {
      setLoading(true);
      setError(null);
      try {
        const reply = await socket.call('get-user-purchases', {
          limit: PAGE_SIZE,
          ...(from ? { cursor: from } : {}),
        });
        if (reply.action !== 'view-purchases-resp-success') {
          setError(plainWords(reply.message as Failure));
          return;
        }
        const page = reply.message as { purchases: PurchaseView[]; nextCursor: string | null };
        setPurchases((old) => (from ? [...old, ...page.purchases] : page.purchases));
        setCursor(page.nextCursor);
        const first = page.purchases[0];
        // "Show older" is gone while loading: focus the first of the purchases it brought
        if (from && first) focusSoon(`purchase-${first.transactionId}`);
      } catch (e) {
        setError(connectionTrouble(e));
      } finally {
        setLoading(false);
      }
    },
    [socket],
  );

  useEffect(() => {
    void load(null);
  }, [load]);
  const heading = useScreen('Purchases');

  return (
    <div className="screen narrow-screen">
      <h1 ref={heading} tabIndex={-1}>
        Purchases
      </h1>
      {!loading && !error && purchases.length === 0 && (
        <div className="panel">
          <p>No purchases yet.</p>
          <button type="button" className="primary" onClick={() => go('shop')}>
            Go to the shop
          </button>
        </div>
      )}
      <ol className="history" aria-label="Your purchases, newest first">
        {purchases.map((p) => (
          <PurchaseRow key={p.transactionId} purchase={p} />
        ))}
      </ol>
      {error && (
        <p className="alert" role="alert">
          {error}{' '}
          <button type="button" className="link" onClick={() => void load(null)}>
            Try again
          </button>
        </p>
      )}
      <div className="history-more" aria-live="polite">
        {loading && (
          <p className="muted">
            <Spinner /> Loading purchases…
          </p>
        )}
        {!loading && cursor && (
          <button type="button" className="secondary" onClick={() => void load(cursor)}>
            Show older purchases
          </button>
        )}
      </div>
    </div>
  );
}

function PurchaseRow({ purchase: p }: { purchase: PurchaseView }) {
  const { openReceipt } = useApp();
  const status = STATUS[p.status] ?? 'Unknown';
  const items = p.items.map((i) => (i.quantity > 1 ? `${i.name} × ${i.quantity}` : i.name));
  const when = dateFormat.format(new Date(p.createdAt));
  return (
    <li
      className={`panel purchase status-${p.status}`}
      id={`purchase-${p.transactionId}`}
      tabIndex={-1}
    >
      <div className="purchase-head">
        <time dateTime={p.createdAt}>{when}</time>
        <span className={`badge badge-${p.status}`}>{status}</span>
      </div>
      <div className="purchase-body">
        <span className="purchase-items">{items.join(', ')}</span>
        <strong className="purchase-total">{formatCents(p.totalCents, p.currency)}</strong>
      </div>
      <div className="muted small">
        {p.card.lastFour ? <CardLabel brand={p.card.brand} lastFour={p.card.lastFour} /> : 'Card'}
        {p.status === 'failed' && (
          <span className="purchase-reason">
            {' '}
            — {plainWords({ code: p.failureCode, error: p.failureMessage })}
          </span>
        )}
      </div>
      <a
        className="receipt-link"
        href={`/purchases/${encodeURIComponent(p.transactionId)}`}
        onClick={(e) => {
          e.preventDefault();
          openReceipt(p.transactionId);
        }}
      >
        View receipt<span className="sr-only"> of {when}</span>
      </a>
    </li>
  );
}
