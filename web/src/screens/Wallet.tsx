import { CardElement, useElements, useStripe } from '@stripe/react-stripe-js';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useApp, type WalletCard } from '../appState';
import { CardLabel, expiry } from '../components/CardBrand';
import { CardField } from '../components/CardField';
import { Spinner } from '../components/Spinner';
import { brandName, connectionTrouble, type Failure, plainWords } from '../errors';
import { focusSoon, useScreen } from '../screen';

export function Wallet() {
  const { wallet, reloadWallet } = useApp();
  const cards = wallet.data ?? [];
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => {
    void reloadWallet();
  }, [reloadWallet]);
  const heading = useScreen('Wallet');

  return (
    <div className="screen">
      <h1 ref={heading} tabIndex={-1}>
        Wallet
      </h1>
      <div className="two-col">
        <section className="panel" aria-labelledby="cards-title">
          <h2 id="cards-title" tabIndex={-1}>
            Your cards
          </h2>
          {wallet.loading && cards.length === 0 && <p className="muted">Loading your cards…</p>}
          {wallet.error && (
            <p className="alert" role="alert">
              {wallet.error}{' '}
              <button type="button" className="link" onClick={() => void reloadWallet()}>
                Try again
              </button>
            </p>
          )}
          {!wallet.loading && !wallet.error && cards.length === 0 && (
            <p className="muted">No saved cards yet. Add one to pay in one click.</p>
          )}
          <ul className="wallet">
            {cards.map((card) => (
              <CardRow key={card.id} card={card} onDone={setMessage} />
            ))}
          </ul>
          <p className="notice-line" role="status">
            {message}
          </p>
        </section>
        <AddCard onSaved={setMessage} />
      </div>
    </div>
  );
}

function CardRow({ card, onDone }: { card: WalletCard; onDone: (message: string) => void }) {
  const { socket, reloadWallet } = useApp();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = `${brandName(card.brand)} ending in ${card.lastFour}`;

  const rowId = `card-${card.id}`;
  async function run(action: string, success: string, done: string) {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const reply = await socket.call(action, { cardId: card.id });
      if (reply.action === success) {
        onDone(done);
        await reloadWallet();
        // the pressed button is gone: focus what took its place (the card, or the list)
        focusSoon(action === 'delete-credit-card' ? 'cards-title' : rowId);
      } else {
        setError(plainWords(reply.message as Failure));
      }
    } catch (e) {
      setError(connectionTrouble(e));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li className="wallet-card" aria-label={label} id={rowId} tabIndex={-1}>
      <div className="wallet-card-main">
        <CardLabel brand={card.brand} lastFour={card.lastFour} />
        {card.isDefault && <span className="badge">Default</span>}
        <div className="muted small">
          Expires {expiry(card.expMonth, card.expYear)}
          {card.nameOnCard ? ` · ${card.nameOnCard}` : ''}
        </div>
      </div>
      <div className="wallet-card-actions">
        {confirming ? (
          <>
            <span className="small">Remove this card?</span>
            <button
              type="button"
              className="danger"
              id={`confirm-remove-${card.id}`}
              disabled={busy}
              onClick={() =>
                void run(
                  'delete-credit-card',
                  'delete-credit-card-resp-success',
                  `${label} removed.`,
                )
              }
            >
              {busy && <Spinner />} Yes, remove
              <span className="sr-only"> {label}</span>
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setConfirming(false);
                focusSoon(`remove-${card.id}`);
              }}
            >
              Keep it
            </button>
          </>
        ) : (
          <>
            {!card.isDefault && (
              <button
                type="button"
                className="secondary"
                disabled={busy}
                aria-label={`Make default: ${label}`}
                onClick={() =>
                  void run(
                    'set-default-card',
                    'set-default-card-resp-success',
                    `${label} is now your default card.`,
                  )
                }
              >
                Make default
              </button>
            )}
            <button
              type="button"
              className="secondary"
              disabled={busy}
              id={`remove-${card.id}`}
              aria-label={`Remove ${label}`}
              onClick={() => {
                setConfirming(true);
                focusSoon(`confirm-remove-${card.id}`);
              }}
            >
              Remove
            </button>
          </>
        )}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

function AddCard({ onSaved }: { onSaved: (message: string) => void }) {
  const { socket, reloadWallet, stripeError } = useApp();
  const stripe = useStripe();
  const elements = useElements();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const saving = useRef(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (saving.current) return;
    const card = elements?.getElement(CardElement);
    if (!stripe || !card) {
      setError(stripeError ?? 'The card form is still loading. Try again in a moment.');
      return;
    }
    saving.current = true;
    setBusy(true);
    setError(null);
    try {
      // SCA-ready: a SetupIntent, confirmed by Stripe.js (the bank's 3-D Secure check when the
      // card asks for one), then the service reads the card from the SetupIntent.
      const setup = await socket.call('create-setup-intent');
      if (setup.action !== 'get-setup-intent') {
        setError(plainWords(setup.message as Failure));
        return;
      }
      const { clientSecret } = setup.message as { clientSecret: string };
      const trimmed = name.trim();
      const confirmed = await stripe.confirmCardSetup(clientSecret, {
        payment_method: { card, ...(trimmed ? { billing_details: { name: trimmed } } : {}) },
      });
      if (confirmed.error || !confirmed.setupIntent) {
        const failure = confirmed.error;
        // a decline in plain words; Stripe.js's own sentence for a typo
        setError(plainWords({ code: failure?.code, error: failure?.message ?? 'Check the card.' }));
        card.focus();
        return;
      }
      const reply = await socket.call('create-payment-method', {
        setupIntentId: confirmed.setupIntent.id,
      });
      const m = reply.message as Failure & { brand?: string; lastFour?: string; status?: string };
      if (reply.action !== 'create-payment-method-resp-success') {
        setError(plainWords(m));
      } else if (m.status !== 'live') {
        setError(plainWords({ code: 'card_checks_failed' }));
      } else {
        card.clear();
        setName('');
        onSaved(`${brandName(m.brand)} ending in ${m.lastFour} saved to your wallet.`);
        await reloadWallet();
        focusSoon('save-card'); // it was disabled while saving, which drops the focus
      }
    } catch (e) {
      setError(connectionTrouble(e));
    } finally {
      saving.current = false;
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="add-title">
      <h2 id="add-title">Add a card</h2>
      <form onSubmit={submit} noValidate aria-busy={busy}>
        <div className="field">
          <label htmlFor="wallet-name">Name on card</label>
          <input
            id="wallet-name"
            autoComplete="cc-name"
            value={name}
            disabled={busy}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <CardField
          error={error}
          disabled={busy}
          unavailable={stripeError}
          onChange={(e) => setError(e.error?.message ?? null)}
        />
        <button type="submit" id="save-card" className="primary wide" disabled={busy}>
          {busy ? (
            <>
              <Spinner /> Saving…
            </>
          ) : (
            'Save card'
          )}
        </button>
        <p className="fineprint muted">
          The card number goes straight to Stripe. couchtour.tv keeps only the brand, the last four
          digits and the expiry date.
        </p>
      </form>
    </section>
  );
}
