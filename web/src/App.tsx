import { Elements } from '@stripe/react-stripe-js';
import type { Stripe } from '@stripe/stripe-js';
import {
  type MouseEvent,
  type ReactNode,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { fetchConfig, type PageConfig, type Session } from './api/http';
import { CouchpaySocket, type Reply, type SocketStatus } from './api/socket';
import {
  AppContext,
  type AppState,
  type Loadable,
  type Outcome,
  type PurchaseTotals,
  type Route,
  type WalletCard,
} from './appState';
import type { Catalog } from './cart';
import { itemCount, parseCatalog } from './cart';
import { connectionTrouble, plainWords, type Failure } from './errors';
import { Checkout } from './screens/Checkout';
import { History } from './screens/History';
import { ConnectionBanner, useOffline } from './components/ConnectionBanner';
import { LineStatus } from './components/LineStatus';
import { useOrderRecovery } from './orderRecovery';
import { receiptInPath, routeFromLocation } from './routing';
import { Receipt } from './screens/Receipt';
import { Result } from './screens/Result';
import { Shop } from './screens/Shop';
import { SignIn } from './screens/SignIn';
import { Wallet } from './screens/Wallet';
import { loadSession, saveSession, socketUrl, tokenExpired } from './session';
import { useSharedCart } from './sharedCart';
import { isRealStripeJs, loadStripeFromConfig } from './stripe/loadStripeFromConfig';

export function App() {
  const [config, setConfig] = useState<PageConfig | null>(null);
  const [configError, setConfigError] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    fetchConfig()
      .then((c) => alive && setConfig(c))
      .catch(
        () =>
          alive &&
          setConfigError('The payment server is not answering. Reload the page in a moment.'),
      );
    const onStorage = (event: StorageEvent) => {
      if (event.key === 'couchpay.session') setSession(loadSession()); // signed in/out in another tab
    };
    window.addEventListener('storage', onStorage);
    return () => {
      alive = false;
      window.removeEventListener('storage', onStorage);
    };
  }, []);

  const signIn = useCallback((s: Session) => {
    saveSession(s);
    setNotice(null);
    setSession(s);
    if (receiptInPath() === null) window.location.hash = '#/shop';
  }, []);
  const signOut = useCallback((why: string | null = null) => {
    saveSession(null);
    setNotice(why);
    setSession(null);
  }, []);

  if (configError !== null) {
    return (
      <Frame>
        <main className="narrow" id="main">
          <h1>couchtour.tv checkout</h1>
          <p className="alert" role="alert">
            {configError}
          </p>
        </main>
      </Frame>
    );
  }
  if (config === null) {
    return (
      <Frame>
        <main className="narrow" id="main" aria-busy="true">
          <p className="muted">Loading…</p>
        </main>
      </Frame>
    );
  }
  if (session === null) {
    return (
      <Frame config={config}>
        <SignIn onSignedIn={signIn} notice={notice} />
      </Frame>
    );
  }
  return <SignedIn key={session.token} config={config} session={session} onSignOut={signOut} />;
}

function Frame({ config, children }: { config?: PageConfig; children: ReactNode }) {
  return (
    <div className="page">
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand" aria-label="couchtour.tv">
            couchtour<span>.tv</span>
          </span>
        </div>
      </header>
      {children}
      {config && <TestModeFooter config={config} />}
    </div>
  );
}

function TestModeFooter({ config }: { config: PageConfig }) {
  const offline = !isRealStripeJs(config.stripeJsUrl);
  if (!offline && !config.publishableKey.startsWith('pk_test')) return null;
  return (
    <footer className="testmode">
      <strong>{offline ? 'Offline demo' : 'Stripe test mode'}:</strong> no real money moves. Test
      cards: <code>4242 4242 4242 4242</code> pays, <code>4000 0025 0000 3155</code> asks for 3-D
      Secure, <code>4000 0000 0000 0341</code> is declined when charged,{' '}
      <code>4000 0000 0000 0002</code> is declined. Any future expiry, any CVC and ZIP.
    </footer>
  );
}

function loadable<T>(): Loadable<T> {
  return { data: null, error: null, loading: true };
}

function SignedIn({
  config,
  session,
  onSignOut,
}: {
  config: PageConfig;
  session: Session;
  onSignOut: (why?: string | null) => void;
}) {
  const [route, setRoute] = useState<Route>(routeFromLocation);
  const [receiptId, setReceiptId] = useState<string | null>(receiptInPath);
  const offline = useOffline();
  const [status, setStatus] = useState<SocketStatus>('connecting');
  const [catalog, setCatalog] = useState<Loadable<Catalog>>(loadable);
  const [wallet, setWallet] = useState<Loadable<WalletCard[]>>(loadable);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [stripeError, setStripeError] = useState<string | null>(null);
  const cart = useSharedCart(session.userId);

  const socket = useMemo(
    () =>
      new CouchpaySocket({
        url: () => {
          if (tokenExpired(session.token))
            throw new Error('Your session has ended. Sign in again.');
          return socketUrl(session.token);
        },
      }),
    [session.token],
  );

  const stripePromise = useMemo<Promise<Stripe | null>>(
    () =>
      loadStripeFromConfig(config).catch(() => {
        setStripeError(
          'Card entry is unavailable: Stripe.js could not be loaded. Reload the page.',
        );
        return null;
      }),
    [config],
  );

  useEffect(() => {
    const offStatus = socket.onStatus((s) => {
      setStatus(s);
    });
    socket.start();
    const online = () => socket.reconnectNow();
    window.addEventListener('online', online);
    document.addEventListener('visibilitychange', online);
    return () => {
      offStatus();
      window.removeEventListener('online', online);
      document.removeEventListener('visibilitychange', online);
      socket.close();
    };
  }, [socket]);

  // A closed socket that we did not close: the session expired.
  useEffect(() => {
    if (status === 'closed' && tokenExpired(session.token)) {
      onSignOut('Your session has ended. Sign in again.');
    }
  }, [status, session.token, onSignOut]);

  useEffect(() => {
    const onLocation = () => {
      setRoute(routeFromLocation());
      setReceiptId(receiptInPath());
    };
    window.addEventListener('hashchange', onLocation);
    window.addEventListener('popstate', onLocation);
    return () => {
      window.removeEventListener('hashchange', onLocation);
      window.removeEventListener('popstate', onLocation);
    };
  }, []);

  const go = useCallback((next: Route) => {
    if (window.location.pathname !== '/' || window.location.hash !== `#/${next}`) {
      window.history.pushState(null, '', `/#/${next}`);
    }
    setRoute(next);
    window.scrollTo(0, 0);
  }, []);

  const openReceipt = useCallback((transactionId: string) => {
    window.history.pushState(null, '', `/purchases/${encodeURIComponent(transactionId)}`);
    setReceiptId(transactionId);
    setRoute('receipt');
    window.scrollTo(0, 0);
  }, []);

  const fetchInto = useCallback(
    async <T,>(
      action: string,
      success: string,
      pick: (message: Record<string, unknown>) => T,
      set: (update: (previous: Loadable<T>) => Loadable<T>) => void,
    ) => {
      set((previous) => ({ ...previous, error: null, loading: true })); // keep what is shown
      try {
        const reply = await socket.call(action);
        if (reply.action === success) {
          const data = pick(reply.message);
          set(() => ({ data, error: null, loading: false }));
        } else {
          const error = plainWords(reply.message as Failure);
          set((previous) => ({ ...previous, error, loading: false }));
        }
      } catch (e) {
        const error = connectionTrouble(e);
        set((previous) => ({ ...previous, error, loading: false }));
      }
    },
    [socket],
  );

  const reloadCatalog = useCallback(
    () => fetchInto('get-items', 'get-items-resp-success', parseCatalog, setCatalog),
    [fetchInto],
  );
  const reloadWallet = useCallback(
    () =>
      fetchInto(
        'get-user-credit-card',
        'get-user-credit-card-resp-success',
        (m) => m.cards as WalletCard[],
        setWallet,
      ),
    [fetchInto],
  );

  useEffect(() => {
    void reloadCatalog();
    void reloadWallet();
  }, [reloadCatalog, reloadWallet]);

  // A purchase settled later (webhook): update the result screen if it shows that purchase.
  const outcomeRef = useRef<Outcome | null>(null);
  outcomeRef.current = outcome;
  const { paid, newAttempt } = cart;
  useEffect(
    () =>
      socket.onPush((reply: Reply) => {
        const current = outcomeRef.current;
        const m = reply.message as Partial<PurchaseTotals> & Failure;
        if (current === null || current.kind !== 'processing') return;
        if (!m.transactionId || m.transactionId !== current.transactionId) return;
        if (reply.action === 'purchase-request-resp-success') {
          paid(current.orderId);
          void reloadWallet();
          setOutcome({
            kind: 'success',
            totals: m as PurchaseTotals,
            lines: current.lines,
            orderId: current.orderId,
            currency: current.currency,
            streamingRate: current.streamingRate,
          });
        } else if (
          reply.action === 'purchase-request-resp-failure' &&
          m.code !== 'payment_processing'
        ) {
          newAttempt(current.orderId);
          setOutcome({ ...current, kind: 'failure', code: m.code ?? '', error: m.error ?? '' });
        }
      }),
    [socket, paid, newAttempt, reloadWallet],
  );

  const showOutcome = useCallback(
    (o: Outcome) => {
      setOutcome(o);
      go('result');
      if (o.kind === 'failure' && o.code === 'sold_out') void reloadCatalog();
    },
    [go, reloadCatalog],
  );

  const { pendingOrder, recoverOrder, line } = useOrderRecovery({
    userId: session.userId,
    socket,
    status,
    cart,
    showOutcome,
    reloadWallet,
  });

  const state: AppState = {
    config,
    session,
    socket,
    status,
    catalog,
    reloadCatalog,
    wallet,
    reloadWallet,
    cart,
    stripeError,
    outcome,
    showOutcome,
    go,
    openReceipt,
    pendingOrder,
    recoverOrder,
    line,
  };

  const count = itemCount(cart.cart.quantities);
  const tab =
    route === 'checkout' || route === 'result' ? 'shop' : route === 'receipt' ? 'purchases' : route;
  const navigate = (next: Route) => (e: MouseEvent<HTMLAnchorElement>) => {
    e.preventDefault(); // the page routes itself: no reload, even from a receipt's own URL
    go(next);
  };
  return (
    <AppContext.Provider value={state}>
      <Elements stripe={stripePromise}>
        <div className="page">
          <a
            className="skip"
            href="#main"
            onClick={(e) => {
              e.preventDefault();
              document.getElementById('main')?.focus();
            }}
          >
            Skip to content
          </a>
          <header className="topbar">
            <div className="topbar-inner">
              <span className="brand" aria-label="couchtour.tv">
                couchtour<span>.tv</span>
              </span>
              <nav aria-label="Main">
                <a
                  href="/#/shop"
                  onClick={navigate('shop')}
                  aria-current={tab === 'shop' ? 'page' : undefined}
                >
                  Shop
                  {count > 0 && (
                    <span className="pill" aria-label={`${count} in cart`}>
                      {count}
                    </span>
                  )}
                </a>
                <a
                  href="/#/wallet"
                  onClick={navigate('wallet')}
                  aria-current={tab === 'wallet' ? 'page' : undefined}
                >
                  Wallet
                </a>
                <a
                  href="/#/purchases"
                  onClick={navigate('purchases')}
                  aria-current={tab === 'purchases' ? 'page' : undefined}
                >
                  Purchases
                </a>
              </nav>
              <div className="who">
                <span className="who-name" title={session.userId}>
                  {session.userId}
                </span>
                <button type="button" className="link" onClick={() => onSignOut(null)}>
                  Sign out
                </button>
              </div>
            </div>
          </header>
          <ConnectionBanner status={status} offline={offline} onSignOut={onSignOut} />
          <main id="main" tabIndex={-1}>
            {route !== 'checkout' && (
              <div className="app-line">
                <LineStatus line={line} />
              </div>
            )}
            {route === 'shop' && <Shop />}
            {route === 'wallet' && <Wallet />}
            {route === 'checkout' && <Checkout />}
            {route === 'purchases' && <History />}
            {route === 'result' && <Result />}
            {route === 'receipt' && receiptId !== null && <Receipt transactionId={receiptId} />}
          </main>
          <TestModeFooter config={config} />
        </div>
      </Elements>
    </AppContext.Provider>
  );
}
