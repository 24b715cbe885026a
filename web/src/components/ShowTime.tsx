/**
 * When a livestream starts, for a purchased line: purchases keep the name and price they were
 * bought at, so the show's time comes from the catalog (shown only while the item is in it).
 */

import { useApp } from '../appState';

export const showTimeFormat = new Intl.DateTimeFormat('en-US', {
  weekday: 'long',
  month: 'long',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});

export function ShowTime({ itemId, name }: { itemId: string; name?: string }) {
  const { catalog } = useApp();
  const starts = catalog.data?.items.find((i) => i.itemId === itemId)?.showStartsAt;
  if (!starts) return null;
  return (
    <span className="show-time-line">
      {name ? `${name}: show` : 'Show'} starts{' '}
      <time dateTime={starts}>{showTimeFormat.format(new Date(starts))}</time>
    </span>
  );
}
