import { brandName } from '../errors';

/** "Visa •••• 4242" with a small brand mark; the screen-reader text says "Visa ending in 4242". */
export function CardLabel({ brand, lastFour }: { brand: string | null; lastFour: string | null }) {
  const name = brandName(brand);
  return (
    <span className="card-label">
      <span className={`brand-mark brand-${(brand ?? 'card').toLowerCase()}`} aria-hidden="true">
        {name === 'Card' ? '▭' : name.slice(0, 4).toUpperCase()}
      </span>
      <span aria-hidden="true">
        {name} •••• {lastFour ?? '????'}
      </span>
      <span className="sr-only">
        {name} ending in {lastFour ?? 'unknown digits'}
      </span>
    </span>
  );
}

export function expiry(month: number, year: number): string {
  return `${String(month).padStart(2, '0')}/${year}`;
}
