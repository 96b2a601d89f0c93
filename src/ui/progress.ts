/** Time left of a running job, for every progress bar of the lab (issue #21: "overall progress and ETA for every job"). */
import { useEffect, useState } from 'react';

/** The current time, ticking every second while `on`. */
export function useNow(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [on]);
  return now;
}

/** Seconds left of a run: from its own pace once it has one, else from the estimate (null: unknown). */
export function secondsLeft(fraction: number, elapsedSeconds: number, estimate: number | null): number | null {
  if (fraction >= 0.05 && elapsedSeconds >= 1.5) return (elapsedSeconds * (1 - fraction)) / fraction;
  return estimate === null ? null : Math.max(0, estimate - elapsedSeconds);
}
