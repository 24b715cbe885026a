/**
 * OFFLINE ONLY — `stripe.confirmCardSetup(clientSecret, {payment_method: {card, billing_details}})`
 * for localstripe's stand-in, whose own version only takes its own card element. As Stripe.js
 * does: the card is turned into a PaymentMethod (checked like createPaymentMethod), the
 * SetupIntent is confirmed with it, and when the card asks for 3-D Secure the bank's check is
 * shown (here a labelled dialog standing in for the bank's page); a failed check is an `error`.
 */

export interface SetupResult {
  setupIntent?: { id: string; status: string } & Record<string, unknown>;
  error?: { type?: string; code?: string; message?: string };
}

type MakePaymentMethod = (data: unknown) => Promise<{
  paymentMethod?: unknown;
  error?: SetupResult['error'];
}>;

const SETUP_FAILED =
  'We are unable to authenticate your payment method. Please choose a different payment ' +
  'method and try again.';

async function post(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok && !parsed.error) parsed.error = { message: `HTTP ${response.status}` };
  return parsed;
}

/** The bank's check, offline: resolves true for "Complete", false for "Fail". */
export function openChallenge(): Promise<boolean> {
  return new Promise((resolve) => {
    const backdrop = document.createElement('div');
    backdrop.className = 'offline-3ds-backdrop';
    const box = document.createElement('div');
    box.className = 'offline-3ds-dialog';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-labelledby', 'offline-3ds-title');
    const title = document.createElement('h2');
    title.id = 'offline-3ds-title';
    title.textContent = 'Your bank’s security check (3-D Secure)';
    const note = document.createElement('p');
    note.className = 'offline-3ds-note';
    note.textContent =
      'Offline test mode: this stands in for your bank’s page. Choose what the bank decides.';
    const text = document.createElement('p');
    text.textContent = 'Confirm saving this card?';
    const done = (ok: boolean) => {
      box.remove();
      backdrop.remove();
      resolve(ok);
    };
    const confirm = document.createElement('button');
    confirm.type = 'button';
    confirm.textContent = 'Complete authentication';
    confirm.addEventListener('click', () => done(true));
    const fail = document.createElement('button');
    fail.type = 'button';
    fail.textContent = 'Fail authentication';
    fail.addEventListener('click', () => done(false));
    box.append(title, note, text, confirm, fail);
    document.body.append(backdrop, box);
    confirm.focus();
  });
}

export async function confirmCardSetup(
  apiBase: string,
  key: string,
  makePaymentMethod: MakePaymentMethod,
  clientSecret: string,
  data: unknown,
): Promise<SetupResult> {
  const seti = /^(seti_[A-Za-z0-9]+)_secret_/.exec(clientSecret)?.[1];
  if (seti === undefined) {
    return { error: { type: 'invalid_request_error', message: 'Invalid client secret.' } };
  }
  const given = ((data ?? {}) as { payment_method?: unknown }).payment_method;
  let paymentMethod: string;
  if (typeof given === 'string') {
    paymentMethod = given;
  } else {
    const pm = given as { card?: unknown; billing_details?: unknown } | undefined;
    const made = await makePaymentMethod({
      type: 'card',
      card: pm?.card,
      billing_details: pm?.billing_details,
    });
    if (made.error || !made.paymentMethod) return { error: made.error };
    paymentMethod = String((made.paymentMethod as { id: string }).id);
  }
  const url = `${apiBase}/v1/setup_intents/${seti}`;
  const auth = { key, use_stripe_sdk: true, client_secret: clientSecret };
  try {
    let body = await post(`${url}/confirm`, { ...auth, payment_method: paymentMethod });
    if (!body.error && body.status === 'requires_action') {
      const ok = await openChallenge();
      body = await post(`${url}/${ok ? 'confirm' : 'cancel'}`, auth);
    }
    if (body.error) return { error: body.error as SetupResult['error'] };
    if (body.status === 'succeeded') {
      return { setupIntent: body as SetupResult['setupIntent'] };
    }
    return {
      error: {
        type: 'invalid_request_error',
        code: 'setup_intent_authentication_failure',
        message: SETUP_FAILED,
      },
    };
  } catch {
    return {
      error: {
        type: 'api_connection_error',
        message: 'We could not reach Stripe. Check your connection and try again.',
      },
    };
  }
}
