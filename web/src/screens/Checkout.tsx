import { CardElement, useElements, useStripe } from '@stripe/react-stripe-js';
import type { PaymentMethod, StripeCardElementChangeEvent } from '@stripe/stripe-js';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { CallTimeout, type Reply } from '../api/socket';
import { type Outcome, type PurchaseLineView, type PurchaseTotals, useApp } from '../appState';
import {
  type Address,
  AddressForm,
  type AddressErrors,
  addressMessage,
  checkAddress,
  EMPTY_ADDRESS,
} from '../components/AddressForm';
import { CardField } from '../components/CardField';
import { LineStatus } from '../components/LineStatus';
import { Spinner } from '../components/Spinner';
import { Lines, Totals } from '../components/Totals';
import { cartLines, formatCents, purchaseLines, totals } from '../cart';
import { connectionTrouble, type Failure, plainWords } from '../errors';
import { awaited, clearInFlight, recordPaid, startInFlight } from '../inflight';
import { useScreen } from '../screen';
import { NothingToPay, SavedCardChoice } from './CheckoutParts';

type Stage = 'idle' | 'card' | 'charging' | 'authenticating' | 'confirming';

const PROGRESS: Record<Stage, string> = {
  idle: '',
  card: 'Checking your card with Stripe…',
  charging: 'Charging your card…',
  authenticating: 'Your bank wants to confirm it is you. Follow its instructions…',
  confirming: 'Confirming the payment with your bank…',
};

const NEW_CARD = 'new';
/** Failures about the cart: shown by the order summary, and the prices are reloaded. */
const CART_CODES = new Set(['price_mismatch', 'item_unavailable', 'sold_out']);
/** Failures about the chosen card, before anything was charged: shown by the card choice. */
const CARD_CODES = new Set(['card_not_valid', 'not_found', 'card_checks_failed']);
/** Failures about the shipping address: shown by the address form. */
const ADDRESS_CODES = new Set(['shipping_address_required']);

export function Checkout() {
  const app = useApp();
  const { catalog, wallet, cart, socket, go, showOutcome } = app;
  const stripe = useStripe();
  const elements = useElements();

  const cards = wallet.data ?? [];
  const [choice, setChoice] = useState<string | null>(null);
  const [saveCard, setSaveCard] = useState(false); // the fan opts in
  const [address, setAddress] = useState<Address>(EMPTY_ADDRESS);
  const [addressErrors, setAddressErrors] = useState<AddressErrors>({});
  const [name, setName] = useState('');
  const [stage, setStage] = useState<Stage>('idle');
  const [cardError, setCardError] = useState<string | null>(null);
  const [payError, setPayError] = useState<string | null>(null);
  const [cartError, setCartError] = useState<string | null>(null);
  const paying = useRef(false); // a second press, even in the same tick, does nothing
  const { reloadWallet, pendingOrder, session, line } = app;
  useEffect(() => {
    void reloadWallet(); // cards saved elsewhere (another tab, another device) show up
  }, [reloadWallet]);

  // Default choice: the default card (listed first), else a new card.
  const selected =
    choice !== null && (choice === NEW_CARD || cards.some((c) => c.id === choice))
      ? choice
      : cards.length > 0
        ? cards[0]!.id
        : NEW_CARD;
  useEffect(() => setCardError(null), [selected]);

  const lines = cartLines(catalog.data?.items ?? [], cart.cart.quantities);
  const pricing = catalog.data?.pricing ?? null; // comes with the items: no items, no totals
  const busy = stage !== 'idle';
  const heading = useScreen('Checkout');
  const ships = lines.some((l) => l.item.shippingCents > 0);
  // Another tab (or this one before a reload) is paying: wait for its outcome, never pay twice.
  const waitingForOrder = pendingOrder !== null && !awaited.has(pendingOrder.orderId);

  if ((lines.length === 0 && !busy) || pricing === null) {
    return <NothingToPay heading={heading} loading={catalog.loading} empty={lines.length === 0} />;
  }

  const { currency, streamingRate } = pricing; // what this order is shown and sent at
  const sum = totals(lines, streamingRate);
  const viewLines: PurchaseLineView[] = lines.map((l) => ({
    itemId: l.item.itemId,
    name: l.item.name,
    unitPriceCents: l.item.priceCents,
    quantity: l.quantity,
    shippingCents: l.item.shippingCents,
  }));

  async function pay(event: FormEvent) {
    event.preventDefault();
    if (paying.current || waitingForOrder) return;
    setPayError(null);
    setCartError(null);
    if (ships) {
      const problems = checkAddress(address);
      setAddressErrors(problems);
      const first = Object.keys(problems)[0];
      if (first !== undefined) {
        document.getElementById(`ship-${first}`)?.focus();
        return;
      }
    }
    paying.current = true;
    const orderId = cart.cart.orderId; // the idempotency key (same in every tab, see sharedCart)
    const userId = session.userId;
    try {
      let source: Record<string, unknown>;
      if (selected === NEW_CARD) {
        const card = elements?.getElement(CardElement);
        if (!stripe || !card) {
          setCardError(app.stripeError ?? 'The card form is still loading. Try again in a moment.');
          return;
        }
        setStage('card');
        const trimmed = name.trim();
        const made = await stripe.createPaymentMethod({
          type: 'card',
          card,
          ...(trimmed ? { billing_details: { name: trimmed } } : {}),
        });
        if (made.error) {
          setCardError(made.error.message ?? 'Check the card details.');
          card.focus();
          return;
        }
        source = { stripePayment: made.paymentMethod satisfies PaymentMethod, saveCard };
      } else {
        source = { cardId: selected };
      }
      setStage('charging');
      const request = {
        ...source,
        items: purchaseLines(lines),
        ...(ships ? { shippingAddress: addressMessage(address) } : {}),
      };
      // Kept until the outcome is known: a reload or a lost reply still finds it (inflight.ts).
      startInFlight(userId, {
        orderId,
        lines: viewLines,
        currency,
        streamingRate,
        totals: sum,
        startedAt: Date.now(),
      });
      awaited.add(orderId);
      let reply = await socket.call('purchase-request', request, { requestId: orderId });
      if (reply.action === 'get-payment-intent') reply = await authenticate(reply);
      awaited.delete(orderId);
      settle(reply, orderId);
    } catch (error) {
      awaited.delete(orderId);
      if (error instanceof CallTimeout) {
        // No answer yet: the order stays pending and its outcome is shown when it comes.
        setPayError(
          'The payment server has not answered yet. You will not be charged twice: this page shows the outcome as soon as it knows it.',
        );
        app.recoverOrder();
      } else {
        clearInFlight(userId, orderId);
        setPayError(connectionTrouble(error)); // no reply at all; retrying uses the same order id
      }
    } finally {
      paying.current = false;
      setStage('idle');
    }
  }

  /** 3-D Secure: Stripe.js shows the bank's check; then the service re-reads the payment. */
  async function authenticate(reply: Reply): Promise<Reply> {
    const { transactionId, clientSecret } = reply.message as {
      transactionId: string;
      clientSecret: string;
    };
    setStage('authenticating');
    if (stripe) await stripe.confirmCardPayment(clientSecret); // the outcome is read by the service
    setStage('confirming');
    return socket.call('confirm-purchase', { transactionId });
  }

  function settle(reply: Reply, orderId: string) {
    const m = reply.message as Partial<PurchaseTotals> & Failure;
    const userId = session.userId;
    if (reply.action !== 'purchase-request-resp-failure' || m.code !== 'payment_processing') {
      clearInFlight(userId, orderId); // the outcome is known (processing: asked again later)
    }
    if (reply.action === 'purchase-request-resp-success') {
      recordPaid(userId, orderId, m.transactionId ?? '');
      cart.paid(orderId);
      if (selected === NEW_CARD && saveCard) void app.reloadWallet();
      showOutcome({
        kind: 'success',
        totals: m as PurchaseTotals,
        lines: viewLines,
        orderId,
        currency,
        streamingRate,
      });
      return;
    }
    const code = m.code ?? '';
    const failure: Outcome = {
      kind: code === 'payment_processing' ? 'processing' : 'failure',
      code,
      error: m.error ?? '',
      transactionId: m.transactionId ?? null,
      lines: viewLines,
      totals: sum,
      orderId,
      currency,
      streamingRate,
    };
    if (reply.action !== 'purchase-request-resp-failure') {
      setPayError(plainWords(m)); // a malformed request ("error"): nothing happened
    } else if (CART_CODES.has(code)) {
      setCartError(plainWords(m));
      cart.newAttempt(orderId);
      void app.reloadCatalog();
    } else if (ADDRESS_CODES.has(code)) {
      setAddressErrors({ line1: plainWords(m) });
      document.getElementById('ship-line1')?.focus();
    } else if (CARD_CODES.has(code) && !m.transactionId) {
      setCardError(plainWords(m));
      void app.reloadWallet();
    } else if (code === 'authentication_incomplete' || code === 'unauthorized') {
      setPayError(plainWords(m));
    } else if (code === 'request_id_reused') {
      setPayError(plainWords(m));
      cart.newAttempt(orderId);
    } else {
      if (code !== 'payment_processing') cart.newAttempt(orderId); // a decline: "try again" is new
      showOutcome(failure);
    }
  }

  const payLabel = `Pay ${formatCents(sum.totalCents, currency)}`;
  return (
    <div className="screen">
      <h1 ref={heading} tabIndex={-1}>
        Checkout
      </h1>
      {waitingForOrder && line === null && (
        <p className="notice" role="status">
          We are checking the outcome of the payment you started
          {pendingOrder && Date.now() - pendingOrder.startedAt < 120_000 ? ' just now' : ''}. Pay is
          back once we know it, so nothing is charged twice.
        </p>
      )}
      <form className="two-col" onSubmit={pay} aria-busy={busy} noValidate>
        <section className="panel" aria-labelledby="pay-with">
          <fieldset disabled={busy}>
            <legend id="pay-with">
              <h2>Pay with</h2>
            </legend>
            {wallet.loading && cards.length === 0 && <p className="muted">Loading your cards…</p>}
            <ul className="choices">
              {cards.map((c) => (
                <SavedCardChoice
                  key={c.id}
                  card={c}
                  checked={selected === c.id}
                  onPick={() => setChoice(c.id)}
                />
              ))}
              <li>
                <label className={`choice${selected === NEW_CARD ? ' checked' : ''}`}>
                  <input
                    type="radio"
                    name="source"
                    value={NEW_CARD}
                    checked={selected === NEW_CARD}
                    onChange={() => setChoice(NEW_CARD)}
                  />
                  <span>A new card</span>
                </label>
              </li>
            </ul>
            {selected === NEW_CARD ? (
              <div className="new-card">
                <div className="field">
                  <label htmlFor="checkout-name">Name on card</label>
                  <input
                    id="checkout-name"
                    autoComplete="cc-name"
                    value={name}
                    onChange={(e) => setName(e.target.value)}
                  />
                </div>
                <CardField
                  error={cardError}
                  disabled={busy}
                  unavailable={app.stripeError}
                  onChange={(e: StripeCardElementChangeEvent) => {
                    setCardError(e.error?.message ?? null);
                    if (!e.empty) setChoice(NEW_CARD); // typing picks it, even before cards load
                  }}
                />
                <label className="check">
                  <input
                    type="checkbox"
                    checked={saveCard}
                    onChange={(e) => setSaveCard(e.target.checked)}
                  />
                  Save this card to my wallet (only once the payment goes through)
                </label>
              </div>
            ) : (
              <p className="field-error" role="alert">
                {cardError}
              </p>
            )}
          </fieldset>
          {ships && (
            <AddressForm
              value={address}
              errors={addressErrors}
              disabled={busy}
              onChange={(next) => {
                setAddress(next);
                if (Object.keys(addressErrors).length > 0) setAddressErrors(checkAddress(next));
              }}
            />
          )}
        </section>
        <aside className="panel summary" aria-labelledby="summary-title">
          <h2 id="summary-title">Order summary</h2>
          <Lines
            currency={currency}
            lines={viewLines.map((l) => ({
              key: l.itemId,
              name: l.name,
              quantity: l.quantity,
              lineCents: l.unitPriceCents * l.quantity,
            }))}
          />
          <Totals totals={sum} currency={currency} rate={streamingRate} />
          <p className="field-error" role="alert">
            {cartError}
          </p>
          <button
            type="submit"
            className="primary wide pay"
            disabled={busy || waitingForOrder}
            aria-describedby="pay-progress pay-line pay-error"
          >
            {busy ? (
              <>
                <Spinner /> Paying…
              </>
            ) : (
              payLabel
            )}
          </button>
          <p className="progress" id="pay-progress" role="status" aria-live="polite">
            {line === null ? PROGRESS[stage] : ''}
          </p>
          <LineStatus line={line} id="pay-line" />
          <p className="field-error" id="pay-error" role="alert">
            {payError}
          </p>
          <p className="fineprint muted">
            Card details go straight to Stripe. Pressing Pay again, even from another tab, never
            charges twice.
          </p>
          <button type="button" className="link" onClick={() => go('shop')} disabled={busy}>
            ← Change the cart
          </button>
        </aside>
      </form>
    </div>
  );
}
