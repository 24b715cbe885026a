import type { Rate, Totals as TotalsT } from '../cart';
import { formatCents, streamingLabel } from '../cart';

/** Subtotal, streaming cost, shipping and total: the breakdown the service charges. */
export function Totals({
  totals,
  currency,
  rate,
}: {
  totals: TotalsT;
  currency: string;
  rate: Rate | null;
}) {
  const money = (cents: number) => formatCents(cents, currency);
  return (
    <dl className="totals">
      <div>
        <dt>Subtotal</dt>
        <dd>{money(totals.subtotalCents)}</dd>
      </div>
      <div>
        <dt>{streamingLabel(totals, rate)}</dt>
        <dd>{money(totals.streamingCostCents)}</dd>
      </div>
      <div>
        <dt>Shipping</dt>
        <dd>{totals.shippingCents === 0 ? 'Free' : money(totals.shippingCents)}</dd>
      </div>
      <div className="grand">
        <dt>Total</dt>
        <dd data-testid="total">{money(totals.totalCents)}</dd>
      </div>
    </dl>
  );
}

export function Lines({
  lines,
  currency,
}: {
  lines: { key: string; name: string; quantity: number; lineCents: number }[];
  currency: string;
}) {
  return (
    <ul className="lines">
      {lines.map((line) => (
        <li key={line.key}>
          <span>
            {line.name} <span className="muted">× {line.quantity}</span>
          </span>
          <span>{formatCents(line.lineCents, currency)}</span>
        </li>
      ))}
    </ul>
  );
}
