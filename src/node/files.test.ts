import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './errors';
import { prepareOutFile } from './files';

describe('--out is proved writable before any compute', () => {
  it('creates missing folders, refuses a file as folder, /proc, and returns promptly', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-out-'));
    await prepareOutFile(path.join(dir, 'a/b/out.f32'), 'out');
    expect(existsSync(path.join(dir, 'a/b/out.f32'))).toBe(true);
    writeFileSync(path.join(dir, 'file'), 'x');
    await expect(prepareOutFile(path.join(dir, 'file/out.f32'), 'out')).rejects.toThrow(/is not a folder/);
    await expect(prepareOutFile(dir, 'out')).rejects.toThrow(/is a folder/);
    const t0 = performance.now();
    await expect(prepareOutFile('/proc/layerwise-test/x/out.f32', 'out')).rejects.toThrow(/^--out \/proc\/layerwise-test\/x\/out.f32: cannot create the folder/);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(prepareOutFile(dir, 'out')).rejects.toBeInstanceOf(UsageError);
  });
});
