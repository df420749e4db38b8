import type { DueTimer } from '../../domain/process/process-manager.ts';

// The one agenda every process manager's timers live on (workflow timers, task retries): per
// key, the timers its state asks for, each armed as one Node timer for its own due time (at once
// when that has passed). It is durable because what it holds is derived, never stored: the host
// sets a key's timers from the manager's state after every input, and at start from the state a
// read model rebuilds, so a restart arms the same timers again. Setting the same timers again
// arms nothing twice (a timer is named within its key); a timer the state drops is disarmed; a
// finished key's timers go with it. A timer that fired stays known until the state drops it, so a
// later input of the key does not fire it again in this process (after a restart it may fire once
// more, which the deciders ignore: their command ids are derived from the timer).

const MAX_DELAY_MS = 2_147_483_647;

interface Armed {
  readonly dueAt: string;
  /** Undefined once fired. */
  handle: NodeJS.Timeout | undefined;
}

export interface DurableAgendaOptions<Payload> {
  /** Fires a due timer; a rejection means "not done": the timer is armed again with a growing delay while its key still wants it. */
  readonly fire: (key: string, timer: DueTimer<Payload>) => Promise<void>;
  readonly onFailure: (error: unknown, key: string, timer: DueTimer<Payload>) => void;
  readonly now?: () => number;
  /** Longest wait before firing a failed timer again; default 30 s. */
  readonly maxRetryDelayMs?: number;
}

export class DurableAgenda<Payload = unknown> {
  private readonly entries = new Map<string, Map<string, Armed>>();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: DurableAgendaOptions<Payload>) {
    this.now = options.now ?? Date.now;
  }

  /** How many keys and armed (not yet fired) timers it holds. */
  size(): { keys: number; armed: number } {
    let armed = 0;
    for (const entry of this.entries.values()) for (const a of entry.values()) if (a.handle) armed++;
    return { keys: this.entries.size, armed };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The key's timers are now these (by name); an empty list keeps nothing armed for it. */
  set(key: string, timers: readonly DueTimer<Payload>[]): void {
    if (this.stopped) return;
    if (timers.length === 0) return this.drop(key);
    const armed = this.entries.get(key) ?? new Map<string, Armed>();
    this.entries.set(key, armed);
    const wanted = new Map(timers.map((t) => [t.name, t]));
    for (const [name, a] of armed) {
      if (wanted.has(name)) continue;
      clearTimeout(a.handle);
      armed.delete(name);
    }
    for (const [name, timer] of wanted) {
      const current = armed.get(name);
      if (current?.dueAt === timer.dueAt) continue;
      clearTimeout(current?.handle);
      armed.set(name, this.arm(key, timer));
    }
  }

  /** The key finished: none of its timers fires any more. */
  drop(key: string): void {
    const armed = this.entries.get(key);
    if (armed) for (const a of armed.values()) clearTimeout(a.handle);
    this.entries.delete(key);
  }

  stop(): void {
    this.stopped = true;
    for (const key of [...this.entries.keys()]) this.drop(key);
  }

  /**
   * A timer whose firing failed (no host answered, the store was down, the host's clock not yet at
   * the due time) is armed again with a growing delay, for as long as its key still wants it.
   */
  private arm(key: string, timer: DueTimer<Payload>, retryInMs?: number, failures = 0): Armed {
    const armed: Armed = { dueAt: timer.dueAt, handle: undefined };
    const delay = retryInMs ?? Math.max(0, Date.parse(timer.dueAt) - this.now());
    armed.handle = setTimeout(
      () => {
        armed.handle = undefined;
        if (!this.current(key, timer.name, armed)) return;
        this.options.fire(key, timer).catch((error: unknown) => {
          this.options.onFailure(error, key, timer);
          if (!this.current(key, timer.name, armed)) return;
          const again = Math.min(this.options.maxRetryDelayMs ?? 30_000, 50 * 4 ** failures);
          this.entries.get(key)!.set(timer.name, this.arm(key, timer, again, failures + 1));
        });
      },
      Math.min(Number.isFinite(delay) ? delay : 0, MAX_DELAY_MS),
    );
    return armed;
  }

  private current(key: string, name: string, armed: Armed): boolean {
    return !this.stopped && this.entries.get(key)?.get(name) === armed;
  }
}
