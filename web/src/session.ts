/** The signed-in user, kept in localStorage so every tab of this browser shares it. */

import type { Session } from './api/http';

const KEY = 'couchpay.session';

export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.userId !== 'string') return null;
    if (tokenExpired(s.token)) return null;
    return { token: s.token, userId: s.userId };
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session === null) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, JSON.stringify(session));
}

/** True when the JWT's `exp` has passed (or is within a minute). Unreadable tokens count as valid:
 *  the server is the judge. */
export function tokenExpired(token: string, nowMs: number = Date.now()): boolean {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 < nowMs + 60_000;
  } catch {
    return false;
  }
}

export function socketUrl(token: string, loc: Location = window.location): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${loc.host}/ws?token=${encodeURIComponent(token)}`;
}
