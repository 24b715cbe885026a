/** The two plain HTTP endpoints the page uses: GET /config and (locally) POST /dev/token. */

export interface PageConfig {
  publishableKey: string;
  /** Real Stripe.js (https://js.stripe.com/...) or, offline, localstripe's stand-in. */
  stripeJsUrl: string;
  stripeApiBase: string;
}

export interface Session {
  token: string;
  userId: string;
}

export class DevSignInUnavailable extends Error {
  constructor() {
    super('Local sign-in is switched off on this server (a real identity provider is configured).');
    this.name = 'DevSignInUnavailable';
  }
}

export async function fetchConfig(): Promise<PageConfig> {
  const response = await fetch('/config', { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /config answered HTTP ${response.status}`);
  return (await response.json()) as PageConfig;
}

/** Local sign-in: the server mints a development token for this user name. */
export async function devSignIn(userId: string, email = ''): Promise<Session> {
  let response: Response;
  try {
    response = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      // the email goes into the token: Stripe emails the receipts there
      body: JSON.stringify(email ? { userId, email } : { userId }),
    });
  } catch {
    throw new Error('Could not reach the server. Check that it is running and try again.');
  }
  if (response.status === 404) throw new DevSignInUnavailable();
  if (response.status === 400) {
    const body = (await response.json().catch(() => ({}))) as { error?: string };
    if (body.error?.startsWith('email')) throw new Error('Enter a valid email address, or none.');
    throw new Error('Use 1 to 64 letters, digits, dots, dashes, underscores or @.');
  }
  if (!response.ok) throw new Error(`Sign-in failed (HTTP ${response.status}). Try again.`);
  return (await response.json()) as Session;
}
