import { useApp } from '../appState';
import { CardLabel } from '../components/CardBrand';
import { ShowTime } from '../components/ShowTime';
import { Lines, Totals } from '../components/Totals';
import { formatCents } from '../cart';
import { failureHeading, plainWords } from '../errors';
import { useScreen } from '../screen';

/** Seed step B11: after a purchase, the success screen or the error screen. */
export function Result() {
  const { outcome, go, openReceipt } = useApp();
  const heading = useScreen(
    outcome === null
      ? 'No payment to show'
      : outcome.kind === 'success'
        ? 'Payment complete'
        : outcome.kind === 'processing'
          ? 'Payment processing'
          : failureHeading(outcome),
  );

  if (outcome === null) {
    return (
      <div className="screen narrow-screen">
        <h1 ref={heading} tabIndex={-1}>
          No payment to show
        </h1>
        <p>
          <button type="button" className="link" onClick={() => go('purchases')}>
            See your purchases
          </button>
        </p>
      </div>
    );
  }

  const lines = outcome.lines.map((l) => ({
    key: l.itemId,
    name: l.name,
    quantity: l.quantity,
    lineCents: l.unitPriceCents * l.quantity,
  }));

  if (outcome.kind === 'success') {
    const t = outcome.totals; // what the service charged, in its currency
    const currency = t.currency || outcome.currency;
    return (
      <div className="screen narrow-screen">
        <section className="panel result result-success" aria-labelledby="result-title">
          <div className="result-icon" aria-hidden="true">
            ✓
          </div>
          <h1 id="result-title" ref={heading} tabIndex={-1}>
            Payment complete
          </h1>
          <p className="lead">
            Thank you! You paid <strong>{formatCents(t.totalCents, currency)}</strong> with{' '}
            <CardLabel brand={t.card.brand} lastFour={t.card.lastFour} />.
          </p>
          <Lines lines={lines} currency={currency} />
          <p className="show-times">
            {outcome.lines.map((l) => (
              <ShowTime key={l.itemId} itemId={l.itemId} name={l.name} />
            ))}
          </p>
          <Totals totals={t} currency={currency} rate={outcome.streamingRate} />
          <div className="actions">
            <button
              type="button"
              className="primary"
              onClick={() => openReceipt(t.transactionId)}
              data-transaction={t.transactionId}
            >
              View your receipt
            </button>
            <button type="button" className="secondary" onClick={() => go('purchases')}>
              See your purchases
            </button>
            <button type="button" className="secondary" onClick={() => go('shop')}>
              Back to the shop
            </button>
          </div>
        </section>
      </div>
    );
  }

  const processing = outcome.kind === 'processing';
  return (
    <div className="screen narrow-screen">
      <section
        className={`panel result ${processing ? 'result-processing' : 'result-failure'}`}
        aria-labelledby="result-title"
      >
        <div className="result-icon" aria-hidden="true">
          {processing ? '…' : '!'}
        </div>
        <h1 id="result-title" ref={heading} tabIndex={-1}>
          {processing ? 'Payment processing' : failureHeading(outcome)}
        </h1>
        <p className="lead" role="alert">
          {plainWords({ code: outcome.code, error: outcome.error })}
        </p>
        {!processing && (
          <p>
            You were not charged the {formatCents(outcome.totals.totalCents, outcome.currency)}.
            Your cart is still there.
          </p>
        )}
        <Lines lines={lines} currency={outcome.currency} />
        <Totals totals={outcome.totals} currency={outcome.currency} rate={outcome.streamingRate} />
        <div className="actions">
          {processing ? (
            <button type="button" className="primary" onClick={() => go('purchases')}>
              See your purchases
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => go('checkout')}>
              Try again
            </button>
          )}
          <button type="button" className="secondary" onClick={() => go('shop')}>
            Back to the shop
          </button>
        </div>
      </section>
    </div>
  );
}
