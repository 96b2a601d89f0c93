import { describe, expect, it } from 'vitest';
import { LiveBudgetClock } from './budget';

describe('the live budget on the wall clock (LiveBudgetClock)', () => {
  it('charges a live round and the slower rounds after it, ignores pauses, and defers until training has paid it back', () => {
    // Ratio 0.25, no prior, two rounds watched after live work, median over the last three ordinary rounds.
    const c = new LiveBudgetClock(0, 0.25, 0, 2, 3);
    let t = 0;
    const round = (s: number) => {
      t += s;
      c.round(s);
    };
    for (let i = 0; i < 4; i++) round(1);
    expect(c.live(t)).toBe(0);
    expect(c.allowed(t)).toBe(true); // nothing spent, no prior
    c.liveStart(t);
    t += 1;
    c.liveEnd(t); // 1 s of live calls at t = 4…5
    round(1.5); // watched: 0.5 s over the median round (1 s)
    round(1.2); // watched: 0.2 s over
    round(1); // ordinary again
    // Wall 8.7 s, training 4 + 1 + 1 + 1 = 7 s, live 1 + 0.5 + 0.2 = 1.7 s.
    expect(t).toBeCloseTo(8.7, 12);
    expect(c.budget(t).trainSeconds).toBeCloseTo(7, 12);
    expect(c.live(t)).toBeCloseTo(1.7, 12);
    // The next round is estimated at the mean cost per round so far (1.7 s, more than the 1 s of calls).
    expect(c.estimate(t)).toBeCloseTo(1.7, 12);
    // 1.7 + 1.7 = 3.4 s > 0.25 · 7 s: deferred.
    expect(c.allowed(t)).toBe(false);
    // A 10 s pause changes nothing: neither training nor live.
    c.pause(10);
    t += 10;
    expect(c.live(t)).toBeCloseTo(1.7, 12);
    // 6 more 1 s rounds: 0.25 · 13 = 3.25 < 3.4; the 7th: 0.25 · 14 = 3.5 ≥ 3.4.
    for (let i = 0; i < 6; i++) round(1);
    expect(c.allowed(t)).toBe(false);
    round(1);
    expect(c.allowed(t)).toBe(true);
    const b = c.budget(t);
    expect(b.rounds).toBe(1);
    expect(b.share).toBeCloseTo(1.7 / 15.7, 12);
  });

  it('holds the first live round back by the prior until training has earned it', () => {
    // A live round is expected to cost 4 rounds: 4 · 1 s ≤ 0.25 · train needs 16 s of training.
    const c = new LiveBudgetClock(0, 0.25, 4);
    expect(c.estimate(0)).toBe(0); // no round measured: no median yet
    for (let t = 1; t <= 15; t++) {
      c.round(1);
      expect(c.allowed(t)).toBe(false);
    }
    c.round(1);
    expect(c.estimate(16)).toBe(4);
    expect(c.allowed(16)).toBe(true);
  });

  it('keeps training at ≥ 80 % of its speed when each live round slows the next rounds too', () => {
    // Rounds of 1 s; a probe due every 5 rounds; each live round takes 3 s of calls and makes
    // the next 4 rounds take 1.5 s (the page drawing, the heap collected). Accounting the calls
    // alone (3 s per round every 5 rounds + 2 s of slower steps) would lose half the speed.
    const c = new LiveBudgetClock(0, 0.25);
    let t = 0;
    let slow = 0;
    let rounds = 0;
    for (let r = 1; r <= 400; r++) {
      const s = slow > 0 ? 1.5 : 1;
      slow = Math.max(0, slow - 1);
      t += s;
      c.round(s);
      if (r % 5 === 0 && c.allowed(t)) {
        c.liveStart(t);
        t += 3;
        c.liveEnd(t);
        slow = 4;
        rounds++;
      }
    }
    const speed = 400 / t; // steps per second with live metrics; 1 without
    expect(speed).toBeGreaterThanOrEqual(0.8);
    // …and not by dropping every probe: the budget is used (3 s + 2 s per round: about one in 20 rounds affordable).
    expect(rounds).toBeGreaterThanOrEqual(12);
    expect(speed).toBeLessThan(0.86);
    expect(c.budget(t).share).toBeCloseTo(1 - speed, 12);
  });
});
