/** The tfjs backend for Node runs (CLI, tools): CPU or WASM, never a silent fallback when one was asked for. */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendRequest } from '../core/backend';
import { LabError } from '../core/types';
import { UsageError } from './errors';
import { ROOT } from './paths';

export async function setupBackend(values: Record<string, string | boolean | undefined>) {
  // PROD silences tfjs's "install tfjs-node" banner, which would break one-line errors.
  tf.env().set('PROD', true);
  const requested = values.backend as string;
  if (!['auto', 'cpu', 'wasm'].includes(requested)) throw new UsageError(`--backend must be auto, cpu or wasm (got "${requested}")`);
  // These commands need inference and input gradients only, which WASM runs fast (the
  // lab's plain-op executor avoids the weight-gradient kernel WASM lacks).
  const backend = await selectBackend(requested === 'auto' ? 'wasm' : (requested as BackendRequest), {
    node: true,
    wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep,
  });
  if (requested !== 'auto' && backend.active !== backend.requested) {
    throw new LabError(`backend ${backend.requested} unavailable here (${backend.fallbackReason})`);
  }
  return backend;
}
