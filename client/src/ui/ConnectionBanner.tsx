import { useEffect, useState } from 'react';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { selectBanner } from '../features/connection/connectionSlice';
import { reconnectRequested } from '../sockets/actions';
import { WifiOffIcon } from './icons';

function useNow(active: boolean, everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [active, everyMs]);
  return now;
}

/** Shown while either socket is away: what happens and when, with a way to retry now. */
export function ConnectionBanner() {
  const banner = useAppSelector(selectBanner, (a, b) => a.kind === b.kind && ('retryAt' in a ? a.retryAt : 0) === ('retryAt' in b ? b.retryAt : 0));
  const dispatch = useAppDispatch();
  const now = useNow(banner.kind === 'waiting');
  if (banner.kind === 'none') return <div role="status" aria-live="polite" className="sr-only" />;
  let text: string;
  if (banner.kind === 'offline') text = 'You are offline. Waiting for the network…';
  else if (banner.kind === 'connecting') text = 'Connecting…';
  else {
    const secs = Math.max(0, Math.ceil((banner.retryAt - now) / 1000));
    text = secs > 0 ? `Connection lost. Reconnecting in ${secs}s…` : 'Reconnecting…';
  }
  return (
    <div
      role="status"
      aria-live="polite"
      data-testid="connection-banner"
      className="flex items-center justify-center gap-3 bg-amber-100 px-4 py-1.5 text-sm text-amber-900 dark:bg-amber-900/40 dark:text-amber-100"
    >
      <WifiOffIcon className="shrink-0" />
      <span>{text}</span>
      {banner.kind === 'waiting' && (
        <button
          type="button"
          className="rounded-md px-2 py-0.5 font-semibold underline-offset-2 hover:underline"
          onClick={() => dispatch(reconnectRequested())}
        >
          Retry now
        </button>
      )}
    </div>
  );
}
