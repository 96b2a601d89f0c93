/**
 * The live-metrics budget on the wall clock (issue #25: live metrics "throttled so training keeps
 * ≥ 80 % of its speed").
 *
 * Timing only the probe and the live analyses undercounts what they cost: the page receiving and
 * drawing their results shares the cores, freed tensors and garbage are collected during the
 * next steps, and the steps right after a live round run slower. Measured in Chromium's WASM
 * worker, an account of the live calls alone said 13 % while the run took 52 % longer than with
 * probes off. So this controller charges live metrics with everything the run's wall clock spent
 * that was not ordinary training:
 *
 *   wall  = time since the start, pauses excluded
 *   train = the rounds' step time, except that in the `after` rounds following a live round (or
 *           an epoch-end callback) only the median ordinary round time counts as training and the
 *           excess is charged to live work
 *   live  = wall − train   (the live calls, their messages, the slower steps after, the loop)
 *
 * Then steps/s with live metrics = steps / wall ≥ steps / (train · (1 + ratio)) whenever
 * live ≤ ratio · train, i.e. ≥ 1 / (1 + ratio) of the speed without them (0.25 → 80 %), given
 * that ordinary rounds run as fast as they would with probes off. A due live round runs only if
 * live + estimate ≤ ratio · train, the estimate being the largest of the last round's own time
 * and the mean live cost per round so far (aftermath included), and before the first round the
 * caller's prior (`priorRounds` ordinary rounds' worth), so that a dear first probe early in a
 * short run cannot break the bound. The account is cumulative: a round dearer than estimated is
 * paid back by spacing the next ones. The final probe, after the last step, runs whatever the
 * account; it slows no step, but the share the status line shows includes it.
 */

/** Live work may cost this much of the training time: 0.25 → ≤ 20 % of the run, ≥ 80 % of training speed kept. */
export const LIVE_SHARE = 0.25;

/**
 * Rounds after a live round (or an epoch-end snapshot) whose excess over the median ordinary
 * round counts as live cost: the page draws the round's results and the heap is collected then.
 * Measured in Node on WASM (MLP, batch 64, a live round every 50 steps): the second step after a
 * round took 85 ms against a median of 53 ms, the others none longer; in the browser the page's
 * redraw shares the cores during the next steps too.
 */
export const AFTER_ROUNDS = 10;
/** Ordinary rounds the median round time is taken over: recent enough to follow a changing load. */
export const MEDIAN_WINDOW = 31;

export interface LiveBudget {
  /** Seconds of training, all runs (post-live rounds counted at the median round time). */
  trainSeconds: number;
  /** Wall-clock seconds not spent training, pauses excluded: live rounds, their aftermath, epoch-end snapshots. */
  liveSeconds: number;
  /** liveSeconds / (trainSeconds + liveSeconds): the share of the run's wall clock live metrics cost. */
  share: number;
  /** Live rounds done. */
  rounds: number;
  /** Due probes postponed because the budget was spent (each counted once). */
  deferred: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The controller. Times are seconds on one caller's clock (performance.now() / 1000 in the
 * trainer; hand-made timelines in the tests): `start`, then per round `round(stepSeconds)`,
 * `pause(seconds)` for time waited at the pause gate, `liveStart(now)` / `liveEnd(now)` around
 * each live round, `afterEpoch()` after an epoch-end callback, and `allowed(now)` to ask.
 */
export class LiveBudgetClock {
  private readonly t0: number;
  private paused = 0;
  private train = 0;
  private readonly recent: number[] = [];
  private afterLeft = 0;
  private rounds = 0;
  private deferred = 0;
  private lastLive = 0;
  private liveAt = NaN;

  constructor(
    now: number,
    readonly ratio: number,
    /** A live round's expected cost in ordinary rounds, until one has been measured. */
    private readonly priorRounds = 0,
    private readonly after = AFTER_ROUNDS,
    private readonly window = MEDIAN_WINDOW,
  ) {
    this.t0 = now;
  }

  /** Time waited at the pause gate: neither training nor live. */
  pause(seconds: number): void {
    this.paused += seconds;
  }

  /** One training round (every run's step) took `seconds`. */
  round(seconds: number): void {
    if (this.afterLeft > 0) {
      this.afterLeft--;
      // Slower than usual right after live work: the excess is live work's (wall − train).
      this.train += this.recent.length ? Math.min(seconds, median(this.recent)) : seconds;
      return;
    }
    this.train += seconds;
    this.recent.push(seconds);
    if (this.recent.length > this.window) this.recent.shift();
  }

  liveStart(now: number): void {
    this.liveAt = now;
  }

  liveEnd(now: number): void {
    this.lastLive = now - this.liveAt;
    this.rounds++;
    this.afterLeft = this.after;
  }

  /** An epoch-end callback (the automatic snapshot) ran: its time is live by the wall clock; the rounds after it are watched too. */
  afterEpoch(): void {
    this.afterLeft = this.after;
  }

  /** A due live round was postponed (count each due probe once). */
  defer(): void {
    this.deferred++;
  }

  wall(now: number): number {
    return now - this.t0 - this.paused;
  }

  live(now: number): number {
    return Math.max(0, this.wall(now) - this.train);
  }

  /** Seconds the next live round is expected to cost, its aftermath included (before the first, the prior in median rounds). */
  estimate(now: number): number {
    if (this.rounds) return Math.max(this.lastLive, this.live(now) / this.rounds);
    return this.recent.length ? this.priorRounds * median(this.recent) : 0;
  }

  /** Whether a due live round may run now: live so far plus this round within `ratio` of the training time. */
  allowed(now: number): boolean {
    return this.live(now) + this.estimate(now) <= this.ratio * this.train;
  }

  budget(now: number): LiveBudget {
    const live = this.live(now);
    return { trainSeconds: this.train, liveSeconds: live, share: live / Math.max(1e-9, this.train + live), rounds: this.rounds, deferred: this.deferred };
  }
}
