import { describe, expect, it } from 'vitest';
import { secondsLeft } from './progress';

describe('time left', () => {
  it('follows the run\'s own pace once it has one, the estimate before', () => {
    expect(secondsLeft(0.25, 10, 100)).toBe(30);
    expect(secondsLeft(0.5, 4, null)).toBe(4);
    expect(secondsLeft(0.01, 0.5, 40)).toBe(39.5);
    expect(secondsLeft(0.01, 0.5, null)).toBeNull();
    expect(secondsLeft(0.02, 60, 40)).toBe(0);
  });
});
