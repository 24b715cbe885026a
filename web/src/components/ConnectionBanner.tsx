/** The banner under the top bar: offline, connecting, or reconnecting (with a way out). */

import { useEffect, useState } from 'react';
import type { SocketStatus } from '../api/socket';

/** The browser's own idea of being online (`navigator.onLine`, `online` / `offline`). */
export function useOffline(): boolean {
  const [offline, setOffline] = useState(() => !navigator.onLine);
  useEffect(() => {
    const on = () => setOffline(false);
    const off = () => setOffline(true);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return offline;
}

export function ConnectionBanner({
  status,
  offline,
  onSignOut,
}: {
  status: SocketStatus;
  offline: boolean;
  onSignOut: (why?: string | null) => void;
}) {
  // Still no connection after a while: the server may have restarted with other keys.
  const [stuck, setStuck] = useState(false);
  useEffect(() => {
    setStuck(false);
    if (status !== 'reconnecting') return;
    const timer = setTimeout(() => setStuck(true), 20_000);
    return () => clearTimeout(timer);
  }, [status]);
  const text = offline
    ? 'You are offline. A payment you started is safe: its outcome shows here as soon as you are back online.'
    : status === 'reconnecting'
      ? 'Connection lost — reconnecting… Anything you started will continue; nothing is charged twice.'
      : status === 'connecting'
        ? 'Connecting…'
        : null;
  return (
    <div
      className={text ? `banner banner-${offline ? 'offline' : status}` : 'banner banner-hidden'}
      role="status"
    >
      {text}
      {stuck && (
        <>
          {' '}
          <button type="button" className="link" onClick={() => onSignOut(null)}>
            Sign in again
          </button>
        </>
      )}
    </div>
  );
}
