/**
 * React shells of the one image painter (../charts/paintImage.ts): a canvas that repaints
 * when its pixels change. Callers keep `map` stable (module-level or useMemo): a new
 * function identity repaints.
 */
import { useEffect, useRef } from 'react';
import { paintDifference, paintImage, type ImageShape } from '../charts/paintImage';

/** One image (grey or RGB) of a Float32 NHWC buffer, at `offset` for a batch. */
export function ImageCanvas({ pixels, shape, offset = 0, map, scale, className = 'thumb', title, label }: { pixels: Float32Array; shape: ImageShape; offset?: number; map?: (v: number) => number; scale?: number; className?: string; title?: string; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintImage(ref.current, pixels, shape, { offset, map, scale });
  }, [pixels, shape, offset, map, scale]);
  return <canvas ref={ref} className={className} title={title} aria-label={label} />;
}

/** A signed difference plane on the diverging scale, symmetric at ±maxAbs. */
export function DifferenceCanvas({ plane, width, height, maxAbs, scale, className = 'thumb', title, testId }: { plane: Float32Array; width: number; height: number; maxAbs: number; scale?: number; className?: string; title?: string; testId?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current) paintDifference(ref.current, plane, width, height, maxAbs, scale);
  }, [plane, width, height, maxAbs, scale]);
  return <canvas ref={ref} className={className} data-testid={testId} title={title} />;
}
