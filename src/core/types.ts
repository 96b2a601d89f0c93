/**
 * Shared data types of the core. Everything here is plain data (typed arrays and
 * numbers) so it can cross a worker boundary by transfer and be serialised.
 */

/** A labelled image set: float32 pixels in [0, 1], NHWC, row-major. */
export interface ImageDataset {
  /** Stable id, e.g. "mnist-test" or "cifar10-test-2000". */
  id: string;
  /** Human readable name. */
  name: string;
  n: number;
  height: number;
  width: number;
  channels: number;
  /** n * height * width * channels floats in [0, 1]. */
  images: Float32Array;
  /** n class indices in [0, classNames.length). */
  labels: Int32Array;
  classNames: string[];
}

/** Progress report of a long job. `fraction` in [0, 1]. */
export interface JobProgress {
  fraction: number;
  message?: string;
}

/** The third argument of every long job (STYLE.md convention 3). */
export interface JobControl {
  signal?: AbortSignal;
  onProgress?: (progress: JobProgress) => void;
}

/** Thrown when a job sees its signal aborted; carries whatever partial result exists. */
export class JobCancelledError<T = unknown> extends Error {
  readonly partial: T | undefined;
  constructor(partial?: T) {
    super('cancelled');
    this.name = 'JobCancelledError';
    this.partial = partial;
  }
}

/** A user-facing error: the message is one line, says what is wrong and with which file. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined, partial?: unknown): void {
  if (signal?.aborted) throw new JobCancelledError(partial);
}
