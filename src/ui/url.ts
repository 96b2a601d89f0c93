/**
 * The URL hash is the lab's save file (STYLE.md convention 13): every value of the setup,
 * written as the non-default values only (core/analyses/lab.ts labHash), read back with
 * invalid values reported and older names understood.
 */
import { labHash, parseLabHash } from '../core/analyses/lab';
import type { Params } from './store';

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
    const hash = labHash(params);
    if (location.hash.slice(1) !== hash) history.replaceState(null, '', `#${hash}`);
  }, HASH_WRITE_MS);
}

export function readHash(): { params: Params; errors: string[] } {
  return parseLabHash(location.hash);
}
