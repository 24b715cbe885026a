/**
 * A purchase's receipt at its own address, /purchases/<transactionId>: reachable from the
 * purchase history and after paying, the same after a reload, and printable (print CSS hides
 * everything but the receipt). Built from `get-purchase`, i.e. what the service recorded.
 */

import { useCallback, useEffect, useState } from 'react';
import { type PurchaseView, useApp } from '../appState';
import { CardLabel } from '../components/CardBrand';
import { ShowTime } from '../components/ShowTime';
import { Spinner } from '../components/Spinner';
import { Totals } from '../components/Totals';
import { formatCents } from '../cart';
import { countryName } from '../countries';
import { connectionTrouble, type Failure, plainWords } from '../errors';
import { useScreen } from '../screen';

export const STATUS: Record<string, string> = {
  succeeded: 'Paid',
  failed: 'Failed',
  pending: 'Processing',
  requires_action: 'Waiting for your bank',
  canceled: 'Canceled',
  refunded: 'Refunded',
};

const when = new Intl.DateTimeFormat('en-US', {
  year: 'numeric',
  month: 'long',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});

export function Receipt({ transactionId }: { transactionId: string }) {
  const { socket, status, go } = useApp();
  const [purchase, setPurchase] = useState<PurchaseView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const heading = useScreen(purchase ? 'Receipt' : error ? 'Receipt not found' : 'Receipt');

  const load = useCallback(async () => {
    setError(null);
    try {
      const reply = await socket.call('get-purchase', { transactionId });
      if (reply.action === 'get-purchase-resp-success') {
        setPurchase((reply.message as { purchase: PurchaseView }).purchase);
      } else {
        const failure = reply.message as Failure;
        setError(
          failure.code === 'not_found'
            ? 'There is no purchase of yours at this address.'
            : plainWords(failure),
        );
      }
    } catch (e) {
      setError(connectionTrouble(e));
    }
  }, [socket, transactionId]);

  useEffect(() => {
    if (status === 'open' && purchase === null) void load();
  }, [status, purchase, load]);

  if (purchase === null) {
    return (
      <div className="screen narrow-screen">
        <h1 ref={heading} tabIndex={-1}>
          {error ? 'Receipt not found' : 'Receipt'}
        </h1>
        {error ? (
          <div className="panel">
            <p role="alert">{error}</p>
            <button type="button" className="primary" onClick={() => go('purchases')}>
              See your purchases
            </button>
          </div>
        ) : (
          <p className="muted" aria-live="polite">
            <Spinner /> Loading the receipt…
          </p>
        )}
      </div>
    );
  }

  const p = purchase;
  const money = (cents: number) => formatCents(cents, p.currency);
  const address = p.shippingAddress;
  return (
    <div className="screen narrow-screen receipt-screen">
      <article className="panel receipt" aria-labelledby="receipt-title">
        <header className="receipt-head">
          <p className="brand-print" aria-hidden="true">
            couchtour<span>.tv</span>
          </p>
          <h1 id="receipt-title" ref={heading} tabIndex={-1}>
            Receipt
          </h1>
          <p>
            <span className={`badge badge-${p.status}`}>{STATUS[p.status] ?? 'Unknown'}</span>{' '}
            <time dateTime={p.createdAt}>{when.format(new Date(p.createdAt))}</time>
          </p>
        </header>
        <table className="receipt-lines">
          <caption className="sr-only">What you bought</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Qty</th>
              <th scope="col">Price</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {p.items.map((i) => (
              <tr key={i.itemId}>
                <th scope="row">
                  {i.name}
                  <ShowTime itemId={i.itemId} />
                </th>
                <td>{i.quantity}</td>
                <td>{money(i.unitPriceCents)}</td>
                <td>{money(i.unitPriceCents * i.quantity)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Totals totals={p} currency={p.currency} rate={null} />
        {p.refundedCents > 0 && (
          <p>
            <strong>Refunded:</strong> {money(p.refundedCents)}
          </p>
        )}
        <dl className="receipt-facts">
          <div>
            <dt>Paid with</dt>
            <dd>
              {p.card.lastFour ? (
                <CardLabel brand={p.card.brand} lastFour={p.card.lastFour} />
              ) : (
                'Card'
              )}
            </dd>
          </div>
          {address && (
            <div>
              <dt>Ships to</dt>
              <dd>
                <address>
                  {address.name}
                  <br />
                  {address.line1}
                  {address.line2 && (
                    <>
                      <br />
                      {address.line2}
                    </>
                  )}
                  <br />
                  {address.city}
                  {address.state ? `, ${address.state}` : ''} {address.postalCode}
                  <br />
                  {countryName(address.country)}
                </address>
              </dd>
            </div>
          )}
          {p.receiptEmail && (
            <div>
              <dt>Emailed to</dt>
              <dd>{p.receiptEmail}</dd>
            </div>
          )}
          {p.status === 'failed' && (
            <div>
              <dt>Why it failed</dt>
              <dd>{plainWords({ code: p.failureCode, error: p.failureMessage })}</dd>
            </div>
          )}
        </dl>
        <p className="muted small">
          Order reference (for support): <span className="reference">{p.transactionId}</span>
        </p>
        <div className="actions no-print">
          <button type="button" className="primary" onClick={() => window.print()}>
            Print receipt
          </button>
          <button type="button" className="secondary" onClick={() => go('purchases')}>
            All purchases
          </button>
        </div>
      </article>
    </div>
  );
}
