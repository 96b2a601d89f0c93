import { describe, expect, it } from 'vitest';
import { appendThinned, keepSnapshots, type Snapshot } from './train';

const snap = (id: string, epoch: number | null, bytes: number): Snapshot => ({ id, run: 0, step: 1, epoch, files: { 'w.bin': new Uint8Array(bytes) } });

describe('the Train view keeps bounded memory', () => {
  it('drops the oldest epoch snapshots past the cap, never one taken on click', () => {
    let list: Snapshot[] = [];
    list = keepSnapshots(list, snap('click', null, 50), 100);
    for (const e of [1, 2, 3]) list = keepSnapshots(list, snap(`epoch${e}`, e, 40), 100);
    // 3 × 40 B of epoch snapshots > 100 B: epoch 1 goes; the 50 B click snapshot stays.
    expect(list.map((s) => s.id)).toEqual(['click', 'epoch2', 'epoch3']);
  });

  it('thins the older half of a full list to every other item', () => {
    expect(appendThinned([1, 2, 3], 4, 5)).toEqual([1, 2, 3, 4]);
    expect(appendThinned([0, 1, 2, 3, 4, 5], 6, 6)).toEqual([0, 2, 3, 4, 5, 6]);
  });
});
