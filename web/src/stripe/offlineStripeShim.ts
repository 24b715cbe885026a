/**
 * OFFLINE ONLY — makes localstripe's stand-in for Stripe.js behave like the real Stripe.js.
 *
 * `couchpay serve` without Stripe keys runs an embedded localstripe, and `/config` points the page
 * at localstripe's stand-in script (`<localstripe>/js.stripe.com/v3/`) instead of
 * https://js.stripe.com. The page itself only makes documented Stripe.js calls; this module
 * (loaded with a dynamic import, only when /config is not real Stripe.js) fills the gaps of the
 * stand-in (localstripe 1.15.10, localstripe-v3.js) so those calls behave as they do for real:
 *
 * - `stripe.createPaymentMethod({type: 'card', card, billing_details})` is an empty function in
 *   the stand-in. Here it checks the card element like Stripe.js does (Luhn, expiry in the future,
 *   CVC, postal code) and POSTs the card to localstripe's `/v1/payment_methods` with the
 *   publishable key, as Stripe.js does (couchpay's localstripe launcher accepts that).
 * - The stand-in's card element has no `off`, `update`, `clear`, `focus`, sends `change` events
 *   without a payload and never `ready`. Here it gets all of those, with Stripe's event shape
 *   (`{elementType, empty, complete, error, brand, value}`), and labelled, autocomplete-friendly
 *   inputs.
 * - `stripe.confirmCardPayment` resolves `{paymentIntent}` even when the test "3D Secure" dialog
 *   was failed; real Stripe.js resolves `{error}` then. Here it does too, and the dialog is shown
 *   as a labelled modal, clearly marked as the offline stand-in for the bank's check.
 *
 * - `stripe.confirmCardSetup` takes the page's card element (the stand-in's takes only its own),
 *   see offlineSetup.ts.
 *
 * Everything else is the stand-in's own behaviour.
 */

import { confirmCardSetup } from './offlineSetup';

// ---- the checks Stripe.js makes on a card element before anything leaves the page ----

export interface CardFields {
  number: string;
  expMonth: string;
  expYear: string;
  cvc: string;
  postalCode: string;
}

type Field = 'number' | 'exp_month' | 'exp_year' | 'cvc' | 'postal_code';

export type CardValidation =
  | {
      ok: true;
      brand: string;
      number: string;
      expMonth: number;
      expYear: number;
      cvc: string;
      postalCode: string;
    }
  | { ok: false; brand: string; field: Field; code: string; message: string; incomplete: boolean };

export function cardBrand(digits: string): string {
  if (/^4/.test(digits)) return 'visa';
  if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(digits)) return 'discover';
  return 'unknown';
}

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

export function validateCard(
  f: CardFields,
  options: { requirePostalCode: boolean; now?: Date },
): CardValidation {
  const now = options.now ?? new Date();
  const number = f.number.replace(/[\s-]/g, '');
  const brand = cardBrand(number);
  const bad = (
    field: Field,
    code: string,
    message: string,
    incomplete = false,
  ): CardValidation => ({
    ok: false,
    brand,
    field,
    code,
    message,
    incomplete,
  });
  const length = brand === 'amex' ? 15 : 16;
  if (number === '' || (/^\d+$/.test(number) && number.length < length)) {
    return bad('number', 'incomplete_number', 'Your card number is incomplete.', true);
  }
  if (!/^\d+$/.test(number) || number.length > length || !luhn(number)) {
    return bad('number', 'invalid_number', 'Your card number is invalid.');
  }
  const mm = f.expMonth.trim();
  const yy = f.expYear.trim();
  if (mm === '' || yy.length < 2) {
    return bad(
      'exp_month',
      'incomplete_expiry',
      'Your card’s expiration date is incomplete.',
      true,
    );
  }
  const month = Number(mm);
  if (!/^\d{1,2}$/.test(mm) || month < 1 || month > 12 || !/^\d{2}$/.test(yy)) {
    return bad('exp_month', 'invalid_expiry_month', 'Your card’s expiration date is invalid.');
  }
  const year = 2000 + Number(yy);
  if (year < now.getFullYear()) {
    return bad(
      'exp_year',
      'invalid_expiry_year_past',
      'Your card’s expiration year is in the past.',
    );
  }
  if (year === now.getFullYear() && month < now.getMonth() + 1) {
    return bad(
      'exp_month',
      'invalid_expiry_month_past',
      'Your card’s expiration date is in the past.',
    );
  }
  const cvcLength = brand === 'amex' ? 4 : 3;
  const cvc = f.cvc.trim();
  if (cvc.length < cvcLength && /^\d*$/.test(cvc)) {
    return bad('cvc', 'incomplete_cvc', 'Your card’s security code is incomplete.', true);
  }
  if (!/^\d+$/.test(cvc) || cvc.length > cvcLength) {
    return bad('cvc', 'invalid_cvc', 'Your card’s security code is invalid.');
  }
  const postalCode = f.postalCode.trim();
  if (options.requirePostalCode && postalCode.length < 3) {
    return bad('postal_code', 'incomplete_zip', 'Your postal code is incomplete.', true);
  }
  return { ok: true, brand, number, expMonth: month, expYear: year, cvc, postalCode };
}

/** The error a change event carries: mistakes at once, "incomplete" only after leaving the card. */
function changeError(
  result: CardValidation,
  empty: boolean,
  left: boolean,
): { type: 'validation_error'; code: string; message: string } | undefined {
  if (result.ok || empty || (result.incomplete && !left)) return undefined;
  return { type: 'validation_error', code: result.code, message: result.message };
}

// ---- the stand-in, extended ----

type Handler = (event?: unknown) => void;

interface StandInElement {
  mount(target: HTMLElement | string): void;
  unmount(): void;
  destroy(): void;
  _inputs?: Record<Field, HTMLInputElement>;
  _domChildren: HTMLElement[];
}

interface StandInElements {
  create(type: string, options?: unknown): StandInElement;
}

interface StandInStripe {
  elements(options?: unknown): StandInElements;
  confirmCardPayment(clientSecret: string, data?: unknown): Promise<StandInResult>;
  [other: string]: unknown;
}

interface StandInResult {
  paymentIntent?: { status?: string; last_payment_error?: StripeLikeError | null } & Record<
    string,
    unknown
  >;
  error?: StripeLikeError;
}

interface StripeLikeError {
  type?: string;
  code?: string;
  message?: string;
  [other: string]: unknown;
}

type StandInConstructor = (key: string) => StandInStripe;

interface CardElementOptions {
  hidePostalCode?: boolean;
  disabled?: boolean;
}

const FIELDS: Record<
  Field,
  { label: string; placeholder: string; autocomplete: string; maxLength: number }
> = {
  number: {
    label: 'Card number',
    placeholder: '1234 1234 1234 1234',
    autocomplete: 'cc-number',
    maxLength: 23,
  },
  exp_month: {
    label: 'Expiry month (MM)',
    placeholder: 'MM',
    autocomplete: 'cc-exp-month',
    maxLength: 2,
  },
  exp_year: {
    label: 'Expiry year (YY)',
    placeholder: 'YY',
    autocomplete: 'cc-exp-year',
    maxLength: 2,
  },
  cvc: { label: 'Security code (CVC)', placeholder: 'CVC', autocomplete: 'cc-csc', maxLength: 4 },
  postal_code: {
    label: 'ZIP or postal code',
    placeholder: 'ZIP',
    autocomplete: 'postal-code',
    maxLength: 10,
  },
};

/** The card element, with the parts of Stripe's Element API the page (and react-stripe-js) use. */
export class OfflineCardElement {
  private readonly listeners = new Map<string, Set<Handler>>();
  private inputs: Record<Field, HTMLInputElement> | null = null;
  private container: HTMLElement | null = null;
  private blurred = false;
  private hidePostalCode: boolean;
  destroyed = false;

  constructor(
    private readonly inner: StandInElement,
    options: CardElementOptions = {},
  ) {
    this.hidePostalCode = options.hidePostalCode === true;
    if (options.disabled === true) queueMicrotask(() => this.update({ disabled: true }));
  }

  mount(target: HTMLElement | string): void {
    const node = typeof target === 'string' ? document.querySelector<HTMLElement>(target) : target;
    if (node === null) throw new Error(`No element matches ${String(target)}`);
    this.inner.mount(node);
    this.container = node;
    this.decorate(node);
    setTimeout(() => this.emit('ready', { elementType: 'card' }), 0);
  }

  unmount(): void {
    this.inner.unmount();
    this.inputs = null;
    this.container?.classList.remove('offline-card-element');
    this.container = null;
  }

  destroy(): void {
    this.unmount();
    this.inner.destroy();
    this.listeners.clear();
    this.destroyed = true;
  }

  on(event: string, handler: Handler): this {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(handler);
    return this;
  }

  off(event: string, handler?: Handler): this {
    if (handler === undefined) this.listeners.delete(event);
    else this.listeners.get(event)?.delete(handler);
    return this;
  }

  once(event: string, handler: Handler): this {
    const wrapped: Handler = (e) => {
      this.off(event, wrapped);
      handler(e);
    };
    return this.on(event, wrapped);
  }

  update(options: CardElementOptions): void {
    if (options.hidePostalCode !== undefined) this.hidePostalCode = options.hidePostalCode;
    if (this.inputs === null) return;
    if (options.disabled !== undefined) {
      for (const input of Object.values(this.inputs)) input.disabled = options.disabled;
    }
    this.inputs.postal_code.hidden = this.hidePostalCode;
  }

  clear(): void {
    if (this.inputs === null) return;
    for (const input of Object.values(this.inputs)) input.value = '';
    this.blurred = false;
    this.emitChange();
  }

  focus(): void {
    this.inputs?.number.focus();
  }

  blur(): void {
    const active = document.activeElement;
    if (active instanceof HTMLElement && this.container?.contains(active)) active.blur();
  }

  /** What createPaymentMethod sends; the errors Stripe.js would report for it. */
  check(): CardValidation {
    return validateCard(this.fields(), { requirePostalCode: !this.hidePostalCode });
  }

  fields(): CardFields {
    const v = (f: Field): string => this.inputs?.[f].value ?? '';
    return {
      number: v('number'),
      expMonth: v('exp_month'),
      expYear: v('exp_year'),
      cvc: v('cvc'),
      postalCode: v('postal_code'),
    };
  }

  private decorate(node: HTMLElement): void {
    const inputs = this.inner._inputs;
    if (inputs === undefined) throw new Error('localstripe stand-in: card element has no inputs');
    this.inputs = inputs;
    node.classList.add('offline-card-element');
    const badge = this.inner._domChildren[0];
    if (badge !== undefined && badge.tagName === 'SPAN') badge.hidden = true; // "localstripe: "
    for (const [field, input] of Object.entries(inputs) as [Field, HTMLInputElement][]) {
      const f = FIELDS[field];
      input.setAttribute('aria-label', f.label);
      input.placeholder = f.placeholder;
      input.setAttribute('autocomplete', f.autocomplete);
      input.maxLength = f.maxLength;
      input.inputMode = field === 'postal_code' ? 'text' : 'numeric';
      input.name = `offline-${field}`;
      input.className = `offline-card-${field.replace('_', '-')}`;
      input.spellcheck = false;
      input.addEventListener('input', () => this.emitChange());
    }
    inputs.postal_code.hidden = this.hidePostalCode;
    node.addEventListener('focusin', () => {
      this.blurred = false;
      this.emit('focus', { elementType: 'card' });
    });
    node.addEventListener('focusout', (event) => {
      const next = (event as FocusEvent).relatedTarget;
      if (next instanceof Node && node.contains(next)) return;
      this.blurred = true;
      this.emit('blur', { elementType: 'card' });
      this.emitChange(); // Stripe reports "incomplete" once the shopper leaves the field
    });
    node.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key === 'Escape') this.emit('escape', { elementType: 'card' });
    });
  }

  private emitChange(): void {
    const result = this.check();
    const fields = this.fields();
    const empty = Object.values(fields).every((value) => value.trim() === '');
    const error = changeError(result, empty, this.blurred);
    this.emit('change', {
      elementType: 'card',
      empty,
      complete: result.ok,
      error,
      brand: result.brand,
      value: { postalCode: fields.postalCode },
    });
  }

  private emit(event: string, payload: unknown): void {
    for (const handler of [...(this.listeners.get(event) ?? [])]) handler(payload);
  }
}

function flatten(prefix: string, value: unknown, out: URLSearchParams): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(`${prefix}[${k}]`, v, out);
  } else {
    out.append(prefix, String(value));
  }
}

async function createPaymentMethod(
  apiBase: string,
  key: string,
  data: unknown,
): Promise<{ paymentMethod?: unknown; error?: StripeLikeError }> {
  const params = (data ?? {}) as { type?: unknown; card?: unknown; billing_details?: unknown };
  if (params.type !== 'card' || !(params.card instanceof OfflineCardElement)) {
    return {
      error: {
        type: 'invalid_request_error',
        message:
          'Offline Stripe.js: createPaymentMethod takes {type: "card", card: <card element>}.',
      },
    };
  }
  const card = params.card;
  const checked = card.check();
  if (!checked.ok) {
    return { error: { type: 'validation_error', code: checked.code, message: checked.message } };
  }
  const form = new URLSearchParams({
    key,
    type: 'card',
    'card[number]': checked.number,
    'card[exp_month]': String(checked.expMonth),
    'card[exp_year]': String(checked.expYear),
    'card[cvc]': checked.cvc,
    payment_user_agent: 'couchpay-offline-stripe-js',
  });
  const billing: Record<string, unknown> = { ...((params.billing_details ?? {}) as object) };
  if (checked.postalCode !== '') {
    const address = { ...((billing.address ?? {}) as object) } as Record<string, unknown>;
    address.postal_code ??= checked.postalCode;
    billing.address = address;
  }
  flatten('billing_details', billing, form);
  try {
    const response = await fetch(`${apiBase}/v1/payment_methods`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const body = (await response.json().catch(() => ({}))) as { error?: StripeLikeError };
    if (!response.ok || body.error) {
      return { error: body.error ?? { type: 'api_error', message: `HTTP ${response.status}` } };
    }
    return { paymentMethod: body };
  } catch {
    return {
      error: {
        type: 'api_connection_error',
        message: 'We could not reach Stripe. Check your connection and try again.',
      },
    };
  }
}

const AUTH_FAILED =
  'We are unable to authenticate your payment method. Please choose a different payment ' +
  'method and try again.';

/** The stand-in's answer, as real Stripe.js gives it: a failed challenge is an error. */
export function asRealConfirmResult(result: StandInResult): StandInResult {
  const pi = result.paymentIntent;
  if (result.error || pi === undefined) return result;
  if (pi.status === 'requires_payment_method' || pi.status === 'canceled') {
    const last = pi.last_payment_error ?? {};
    return {
      error: {
        type: last.type ?? 'invalid_request_error',
        code: last.code ?? 'payment_intent_authentication_failure',
        message: last.message ?? AUTH_FAILED,
        payment_intent: pi,
      },
    };
  }
  return result;
}

/** Watch for the stand-in's 3-D Secure dialog and make it a labelled modal dialog. */
function decorateChallengeDialog(): () => void {
  let backdrop: HTMLDivElement | null = null;
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof HTMLDivElement)) continue;
        const text = node.querySelector('p');
        if (text === null || !text.innerText.startsWith('3D Secure')) continue;
        node.classList.add('offline-3ds-dialog');
        node.setAttribute('role', 'dialog');
        node.setAttribute('aria-modal', 'true');
        const title = document.createElement('h2');
        title.id = 'offline-3ds-title';
        title.textContent = 'Your bank’s security check (3-D Secure)';
        const note = document.createElement('p');
        note.className = 'offline-3ds-note';
        note.textContent =
          'Offline test mode: this stands in for your bank’s page. Choose what the bank decides.';
        text.textContent = 'Confirm this payment?';
        node.prepend(title, note);
        node.setAttribute('aria-labelledby', title.id);
        backdrop = document.createElement('div');
        backdrop.className = 'offline-3ds-backdrop';
        document.body.insertBefore(backdrop, node);
      }
    }
  });
  observer.observe(document.body, { childList: true });
  return () => {
    observer.disconnect();
    backdrop?.remove();
  };
}

/** The stand-in's Stripe(), extended. `apiBase` is localstripe's URL (where the script is from). */
export function extendStandIn(standIn: StandInConstructor, apiBase: string) {
  return function Stripe(key: string): Record<string, unknown> {
    const inner = standIn(key);
    return {
      ...inner,
      elements(options?: unknown) {
        const group = inner.elements(options);
        let card: OfflineCardElement | null = null;
        return {
          create(type: string, elementOptions?: CardElementOptions) {
            if (type !== 'card') {
              throw new Error(`Offline Stripe.js has only the card element (asked for "${type}").`);
            }
            card = new OfflineCardElement(group.create('card'), elementOptions);
            return card;
          },
          getElement() {
            return card !== null && !card.destroyed ? card : null;
          },
          update() {
            /* appearance/fonts: nothing to update offline */
          },
        };
      },
      createPaymentMethod: (data: unknown) => createPaymentMethod(apiBase, key, data),
      confirmCardSetup: (clientSecret: string, data?: unknown) =>
        confirmCardSetup(
          apiBase,
          key,
          (made) => createPaymentMethod(apiBase, key, made),
          clientSecret,
          data,
        ),
      async confirmCardPayment(clientSecret: string, data?: unknown) {
        const undecorate = decorateChallengeDialog();
        try {
          return asRealConfirmResult(await inner.confirmCardPayment(clientSecret, data));
        } finally {
          undecorate();
        }
      },
    };
  };
}

function loadScript(src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`Could not load the offline Stripe.js from ${src}`));
    document.head.appendChild(script);
  });
}

const STYLES = `
.offline-card-element { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 4px; }
.offline-card-element input {
  font: inherit; color: inherit; background: transparent; border: 0; border-radius: 4px;
  padding: 2px 4px; min-width: 0; box-sizing: border-box;
}
.offline-card-element input:focus { outline: 2px solid #5b2bd6; outline-offset: 1px; }
.offline-card-element input:disabled { color: #8a8799; }
.offline-card-element .offline-card-number { flex: 1 1 12.5em; }
.offline-card-element .offline-card-exp-month,
.offline-card-element .offline-card-exp-year { width: 3em; text-align: center; }
.offline-card-element .offline-card-cvc { width: 3.6em; text-align: center; }
.offline-card-element .offline-card-postal-code { width: 5em; text-align: center; }
@media (max-width: 480px) { .offline-card-element .offline-card-number { flex-basis: 100%; } }
.offline-3ds-backdrop { position: fixed; inset: 0; background: rgb(20 16 40 / 55%); z-index: 1000; }
.offline-3ds-dialog {
  position: fixed !important; top: 50% !important; left: 50% !important;
  transform: translate(-50%, -50%); margin: 0 !important; box-sizing: border-box;
  width: min(380px, calc(100vw - 32px)) !important; padding: 20px 24px !important;
  border: 0 !important; border-radius: 12px; text-align: left !important; z-index: 1001;
  box-shadow: 0 20px 50px rgb(0 0 0 / 35%); font: inherit; color: #1d1a2b;
}
.offline-3ds-dialog h2 { font-size: 1.15rem; margin: 0 0 6px; }
.offline-3ds-dialog p { margin: 0 0 14px; }
.offline-3ds-dialog .offline-3ds-note {
  font-size: .85rem; color: #5e5a70; background: #f4f1fb; padding: 8px 10px; border-radius: 8px;
}
.offline-3ds-dialog button {
  font: inherit; font-weight: 600; border-radius: 8px; padding: 10px 14px; margin: 4px 8px 0 0;
  border: 1px solid #5b2bd6; cursor: pointer; min-height: 44px;
}
.offline-3ds-dialog button:first-of-type { background: #5b2bd6; color: #fff; }
.offline-3ds-dialog button:last-of-type { background: #fff; color: #5b2bd6; }
`;

function installStyles(): void {
  if (document.getElementById('offline-stripe-styles') !== null) return;
  const style = document.createElement('style');
  style.id = 'offline-stripe-styles';
  style.textContent = STYLES;
  document.head.appendChild(style);
}

/** Load localstripe's stand-in and put the extended Stripe() in its place on `window`. */
export async function installOfflineStripe(stripeJsUrl: string): Promise<void> {
  const w = window as unknown as { Stripe?: unknown };
  if (typeof w.Stripe === 'function' && (w.Stripe as { offline?: boolean }).offline) return;
  installStyles();
  await loadScript(stripeJsUrl);
  if (typeof w.Stripe !== 'function') throw new Error('The offline Stripe.js did not load.');
  const apiBase = stripeJsUrl.replace(/\/js\.stripe\.com\/v3\/?$/, '');
  const extended = extendStandIn(w.Stripe as StandInConstructor, apiBase);
  w.Stripe = Object.assign(extended, { offline: true });
}
