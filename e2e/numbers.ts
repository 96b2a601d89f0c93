/** Number comparisons shared by the e2e parity tests. */

/** max |got − want| over max |want|: the scale-free error the parity tests state tolerances in. */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}
