import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { computeP, exactKnn, updateP } from './affinities';
import { exactKnnTf } from './knn';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('tiled tfjs kNN (spec §2.2)', () => {
  it('a hand-checkable line: neighbours of 0, 1, 3, 7 on the real axis', async () => {
    const x = Float32Array.from([0, 1, 3, 7]);
    const r = await exactKnnTf(x, 4, 1, 2, { tileRows: 3 });
    // 0 → 1 (1), 3 (9); 1 → 0 (1), 3 (4); 3 → 1 (4), 0 (9); 7 → 3 (16), 1 (36).
    expect(Array.from(r.indices)).toEqual([1, 2, 0, 2, 1, 0, 2, 1]);
    expect(Array.from(r.sqDistances)).toEqual([1, 9, 1, 4, 4, 9, 16, 36]);
  });

  it('equals the float64 CPU exactKnn, including duplicate rows (ties by index), with tiles not dividing N', async () => {
    const rng = createRng(5);
    const n = 157;
    const d = 7;
    const x = new Float32Array(n * d);
    for (let i = 0; i < x.length; i++) x[i] = 3 + rng.normal(); // offset: cancellation in ‖a‖²+‖b‖²−2ab
    // Rows 100.. duplicate rows 0.. (the ε = 0 case: adversarial = clean).
    for (let i = 100; i < n; i++) x.set(x.subarray((i - 100) * d, (i - 99) * d), i * d);
    const before = tf.memory().numTensors;
    const k = 12;
    const tfk = await exactKnnTf(x, n, d, k, { tileRows: 40 });
    expect(tf.memory().numTensors).toBe(before);
    const cpu = exactKnn(x, n, d, k);
    expect(Array.from(tfk.indices)).toEqual(Array.from(cpu.indices));
    expect(Array.from(tfk.sqDistances)).toEqual(Array.from(cpu.sqDistances));
    // A subset of query rows, as after an ε change.
    const rows = Int32Array.from([3, 150, 42]);
    const sub = await exactKnnTf(x, n, d, k, { rows });
    expect(Array.from(sub.indices)).toEqual(Array.from(exactKnn(x, n, d, k, rows).indices));
  });

  it('computeP gives the same P with either kNN', async () => {
    const rng = createRng(9);
    const n = 60;
    const d = 4;
    const x = new Float32Array(n * d);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const a = await computeP(x, n, d, 5, 'cpu');
    const b = await computeP(x, n, d, 5, 'tfjs');
    expect(Array.from(b.cols)).toEqual(Array.from(a.cols));
    expect(Array.from(b.vals)).toEqual(Array.from(a.vals));
  });
});

describe('warm-start P update with the tfjs kNN', () => {
  it('await updateP(…, "tfjs") equals computeP on the changed data', async () => {
    const rng = createRng(13);
    const n = 80;
    const d = 5;
    const x = new Float32Array(n * d);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const p0 = await computeP(x, n, d, 6, 'tfjs');
    const changed = Int32Array.from({ length: 20 }, (_, i) => 60 + i);
    const x1 = Float32Array.from(x);
    for (const r of changed) for (let c = 0; c < d; c++) x1[r * d + c] += 0.5 * rng.normal();
    const up = await updateP(p0, x1, n, d, 6, changed, 'tfjs');
    const ref = await computeP(x1, n, d, 6, 'cpu');
    expect(Array.from(up.cols)).toEqual(Array.from(ref.cols));
    expect(Array.from(up.vals)).toEqual(Array.from(ref.vals));
  });
});
