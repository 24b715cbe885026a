import { type FormEvent, useState } from 'react';
import { DevSignInUnavailable, devSignIn, type Session } from '../api/http';
import { Spinner } from '../components/Spinner';
import { useScreen } from '../screen';

/** Local sign-in: pick a user name; the server issues a development token (loopback only, and
 *  only while no real identity provider is configured). */
export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (session: Session) => void;
  notice: string | null;
}) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [unavailable, setUnavailable] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const userId = name.trim();
    if (userId === '') {
      setError('Enter a user name.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await devSignIn(userId, email.trim()));
    } catch (e) {
      if (e instanceof DevSignInUnavailable) setUnavailable(true);
      setError(e instanceof Error ? e.message : String(e));
      setBusy(false);
    }
  }

  useScreen('Sign in', false); // the user-name box has the focus
  return (
    <main className="narrow" id="main">
      <section className="panel signin">
        <h1>Sign in</h1>
        <p className="muted">
          Buy tickets, meet-and-greets and merch for tonight’s couchtour.tv concert. Card details go
          straight to Stripe; couchtour.tv only keeps the brand, last four digits and expiry.
        </p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor="user-name">User name</label>
            <input
              id="user-name"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={name}
              maxLength={64}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby="user-name-hint user-name-error"
              disabled={unavailable}
              autoFocus
            />
            <p className="hint" id="user-name-hint">
              Local demo: any name works (letters, digits, <code>. _ @ -</code>). The server issues
              a development sign-in token for it.
            </p>
            <p className="field-error" id="user-name-error" role="alert">
              {error}
            </p>
          </div>
          <div className="field">
            <label htmlFor="user-email">Email for receipts (optional)</label>
            <input
              id="user-email"
              name="email"
              type="email"
              autoComplete="email"
              spellCheck={false}
              value={email}
              maxLength={254}
              onChange={(e) => setEmail(e.target.value)}
              disabled={unavailable}
            />
          </div>
          <button className="primary wide" type="submit" disabled={busy || unavailable}>
            {busy && <Spinner />} {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </section>
    </main>
  );
}
