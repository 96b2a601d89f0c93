/**
 * React side of the chart convention (./chart.ts): returns the ref to put on the <svg> or
 * <canvas>; the chart is created when the element mounts, updated whenever `data` changes
 * (null or undefined keeps what is drawn) and destroyed on unmount. `create` must keep its
 * identity (module-level, or useCallback): a new one re-creates the chart and re-feeds it
 * the current data. An existing ref (e.g. one an export menu also reads) may be passed in.
 */
import { useEffect, useRef, type RefObject } from 'react';
import type { Chart } from './chart';

export function useChart<E extends Element, D>(create: (el: E) => Chart<D>, data: D | null | undefined, ref?: RefObject<E | null>): RefObject<E | null> {
  const ownRef = useRef<E>(null);
  const el = ref ?? ownRef;
  const chart = useRef<Chart<D> | null>(null);
  useEffect(() => {
    if (!el.current) return;
    const c = create(el.current);
    chart.current = c;
    return () => {
      c.destroy();
      if (chart.current === c) chart.current = null;
    };
  }, [el, create]);
  useEffect(() => {
    if (data !== null && data !== undefined) chart.current?.update(data);
  }, [create, data]);
  return el;
}
