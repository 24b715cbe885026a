import { CardElement, useElements } from '@stripe/react-stripe-js';
import type { StripeCardElementChangeEvent, StripeCardElementOptions } from '@stripe/stripe-js';
import { useId, useMemo } from 'react';

const OPTIONS: StripeCardElementOptions = {
  hidePostalCode: false,
  style: {
    base: {
      fontSize: '16px',
      color: '#1d1a2b',
      fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      '::placeholder': { color: '#8a8799' },
    },
    invalid: { color: '#b42318' },
  },
};

/** The Stripe card element with a label and its error right under it. Card numbers stay inside
 *  Stripe's element; this page never reads them. */
export function CardField({
  error,
  onChange,
  disabled = false,
  unavailable = null,
}: {
  error: string | null;
  onChange: (event: StripeCardElementChangeEvent) => void;
  disabled?: boolean;
  unavailable?: string | null;
}) {
  const id = useId();
  const elements = useElements();
  const labelId = `${id}-label`;
  const errorId = `${id}-error`;
  const options = useMemo(() => ({ ...OPTIONS, disabled }), [disabled]);
  return (
    <div className="field">
      <span
        className="label"
        id={labelId}
        onClick={() => elements?.getElement(CardElement)?.focus()}
      >
        Card details
      </span>
      <div
        className={`card-box${error ? ' invalid' : ''}${disabled ? ' disabled' : ''}`}
        role="group"
        aria-labelledby={labelId}
        aria-describedby={error ? errorId : undefined}
      >
        {unavailable ? (
          <span className="muted">{unavailable}</span>
        ) : (
          <CardElement options={options} onChange={onChange} />
        )}
      </div>
      <p className="field-error" id={errorId} role="alert">
        {error}
      </p>
    </div>
  );
}
