/**
 * The browser side of `npm run bench -- attacks --browser`: exposes `window.layerwiseBench`
 * for Playwright. It activates the requested tfjs backend, loads a zoo model from the dev
 * server (/models/<id>/), and runs the same measurement as the Node bench
 * (bench/browser/measure.ts) on images handed over from Node.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../../src/core/backend';
import { loadLabModel } from '../../src/core/model/model';
import { measureAttack, type MeasureConfig, type Measurement } from './measure';

export interface PageJob {
  backend: BackendName;
  model: string;
  images: number[];
  labels: number[];
  shape: [number, number, number];
  configs: MeasureConfig[];
}

export interface PageResult {
  backend: string;
  fallbackReason: string | null;
  adapter?: string;
  webglFloat32?: boolean;
  rows: Measurement[];
}

async function readModelFile(id: string, rel: string): Promise<Uint8Array> {
  const res = await fetch(`/models/${encodeURIComponent(id)}/${rel}`);
  if (!res.ok) throw new Error(`/models/${id}/${rel}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function run(job: PageJob): Promise<PageResult> {
  tf.env().set('PROD', true);
  const state = await selectBackend(job.backend);
  if (state.active !== job.backend) return { backend: state.active, fallbackReason: state.fallbackReason, rows: [] };
  const model = await loadLabModel('model.json', (rel) => readModelFile(job.model, rel), job.model);
  try {
    const input = { images: Float32Array.from(job.images), labels: Int32Array.from(job.labels), shape: job.shape };
    const rows: Measurement[] = [];
    for (const cfg of job.configs) rows.push(await measureAttack(model.logits, input, cfg));
    const webglFloat32 = state.active === 'webgl' ? tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') : undefined;
    return { backend: state.active, fallbackReason: state.fallbackReason, adapter: state.adapter, webglFloat32, rows };
  } finally {
    model.dispose();
  }
}

(window as unknown as { layerwiseBench: { run: typeof run; ready: boolean } }).layerwiseBench = { run, ready: true };
