// Refetching on live events: at most one request per `intervalMs`, never two
// at once, and a request after the last event (trailing), so a burst of
// ticket events costs about one stats query per second and the last state is
// always fetched.
export interface Throttle {
  /** Something changed: fetch soon (now if nothing ran for `intervalMs`). */
  poke(): void;
  dispose(): void;
}

export function throttle(
  run: () => Promise<unknown>,
  intervalMs: number,
  clock: { now: () => number; setTimeout: (f: () => void, ms: number) => unknown; clearTimeout: (h: unknown) => void } = {
    now: () => Date.now(),
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  },
): Throttle {
  let lastStart = -Infinity;
  let inFlight = false;
  let pending = false;
  let timer: unknown = null;
  let disposed = false;

  const start = () => {
    timer = null;
    if (disposed) return;
    pending = false;
    inFlight = true;
    lastStart = clock.now();
    void run()
      .catch(() => undefined)
      .finally(() => {
        inFlight = false;
        if (pending) poke();
      });
  };

  const poke = () => {
    if (disposed) return;
    if (inFlight) {
      pending = true;
      return;
    }
    if (timer !== null) return;
    const wait = Math.max(0, lastStart + intervalMs - clock.now());
    if (wait === 0) start();
    else timer = clock.setTimeout(start, wait);
  };

  return {
    poke,
    dispose() {
      disposed = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
