import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from './throttle';

describe('throttled refetch', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs at once, then at most once a second, and once more after a burst', async () => {
    const run = vi.fn(() => Promise.resolve());
    const th = throttle(run, 1000);
    th.poke();
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10);
    for (let i = 0; i < 50; i++) {
      th.poke();
      await vi.advanceTimersByTimeAsync(10);
    }
    // 510 ms in: still the first run; the trailing one waits for the second mark.
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(run).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(run).toHaveBeenCalledTimes(2);
    th.dispose();
  });

  it('never overlaps: events during a slow request give one request after it', async () => {
    let finish: () => void = () => {};
    const run = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const th = throttle(run, 1000);
    th.poke();
    await vi.advanceTimersByTimeAsync(3000);
    th.poke();
    th.poke();
    await vi.advanceTimersByTimeAsync(3000);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(run).toHaveBeenCalledTimes(2);
    th.dispose();
  });

  it('does nothing after dispose', async () => {
    const run = vi.fn(() => Promise.resolve());
    const th = throttle(run, 1000);
    th.poke();
    await vi.advanceTimersByTimeAsync(10);
    th.poke();
    th.dispose();
    await vi.advanceTimersByTimeAsync(2000);
    expect(run).toHaveBeenCalledTimes(1);
  });
});
