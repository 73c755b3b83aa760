// A clock moved by hand, for tests whose subject is time passing (an expiry, a renewal, "within
// a second") or that need two events in different milliseconds: Date (and so Date.now) is
// mocked for the whole process, the lab in it included; timers stay real, so I/O, sleeps in the
// app and timeouts go on as usual.
import { mock } from 'node:test';

export interface HandClock {
  /** Moves Date forward by `ms`. */
  tick(ms: number): void;
  restore(): void;
}

/** Freezes Date at the current time until ticked; restore() gives the real clock back. */
export function handClock(): HandClock {
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  return {
    tick: (ms) => mock.timers.tick(ms),
    restore: () => mock.timers.reset(),
  };
}

/** Runs `use` with a hand-moved clock, and gives the real one back however it ends. */
export async function withHandClock<T>(use: (clock: HandClock) => Promise<T>): Promise<T> {
  const clock = handClock();
  try {
    return await use(clock);
  } finally {
    clock.restore();
  }
}
