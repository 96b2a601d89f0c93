/**
 * The URL hash is the lab's save file (STYLE.md convention 13): every value of the setup,
 * written as the non-default values only (core/analyses/lab.ts labHash), read back with
 * invalid values reported and older names understood.
 */
import { labHash, parseLabHash } from '../core/analyses/lab';
import { attackSchema } from '../core/schema';
import type { Params } from './store';
import { threatOf } from './threat';

let hashTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Mirror the parameters into the URL hash. history.replaceState costs a round trip to the
 * browser process, so slider drags write it at most once per HASH_WRITE_MS (trailing).
 */
const HASH_WRITE_MS = 200;
export function writeHash(params: Params): void {
  if (hashTimer) clearTimeout(hashTimer);
  hashTimer = setTimeout(() => {
    hashTimer = null;
    const hash = withStatedEps(labHash(params), params);
    if (location.hash.slice(1) !== hash) history.replaceState(null, '', `#${hash}`);
  }, HASH_WRITE_MS);
}

/**
 * The hash leaves out ε at the schema's default, and a URL without ε boots at its data's
 * threat-model start (setup.ts). Where that start is another ε (CIFAR-10, L2), the default ε
 * is stated, so the URL still reproduces it.
 */
export function withStatedEps(hash: string, params: Params): string {
  const eps = params.attack.eps;
  if (eps !== attackSchema.eps.default || threatOf(params).start === eps) return hash;
  const stated = `${attackSchema.eps.url}=${eps}`;
  return hash ? `${hash}&${stated}` : stated;
}

export function readHash(): { params: Params; errors: string[] } {
  return parseLabHash(location.hash);
}
