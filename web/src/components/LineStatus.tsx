import type { LineSpot } from '../orderRecovery';

/** "About 12 s" under two minutes, then minutes. */
function about(seconds: number): string {
  if (seconds < 120) return `about ${Math.max(1, Math.round(seconds))} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

/** Where the order being paid stands in the service's admission line, in words. */
export function lineWords(line: LineSpot): string {
  if (line.position === 0) return 'Your payment is with the bank now…';
  if (line.position === null) return "You're in line to pay…";
  const eta = line.etaSeconds !== null ? `, ${about(line.etaSeconds)}` : '';
  return `You're in line — #${line.position}${eta}`;
}

/**
 * The line screen: a polite live region that says where the order stands while it waits in line
 * (showtime, many fans paying at once), updated as the service's queued replies arrive. Rendered
 * empty when the order is not in line, so that screen readers hear the first update too.
 */
export function LineStatus({ line, id }: { line: LineSpot | null; id?: string }) {
  return (
    <div
      id={id}
      className={line ? 'line-status notice' : 'line-status'}
      role="status"
      aria-live="polite"
      aria-atomic="true"
    >
      {line && (
        <>
          <p className="line-where">
            <strong>{lineWords(line)}</strong>
          </p>
          <p className="line-note">
            You will not be charged twice; keep this page open or come back later.
          </p>
        </>
      )}
    </div>
  );
}
