import { timerKey, type WorkflowTimer, type WorkflowTimers } from '../domain/workflow/timers.ts';

// The workflow engine's agenda in memory: per running workflow, its pending timers (the fold of
// domain/workflow/timers.ts) and one Node timer per entry, kept in step with the fold. A timer is
// armed for its own due time, at once when that has passed; a timer the fold drops is disarmed;
// setting the same timers again arms nothing twice. A timer that fired stays known until the
// fold drops it, so a later event of the workflow does not fire it again in this process (after
// a restart it may fire once more, which the deciders ignore).

const MAX_DELAY_MS = 2_147_483_647;

interface Armed {
  readonly dueAt: string;
  /** Undefined once fired. */
  handle: NodeJS.Timeout | undefined;
}

interface Entry {
  timers: WorkflowTimers;
  readonly armed: Map<string, Armed>;
}

export class WorkflowAgenda {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;

  constructor(
    private readonly fire: (timer: WorkflowTimer) => Promise<void>,
    private readonly now: () => number,
    private readonly onFailure: (error: unknown, timer: WorkflowTimer) => void,
  ) {}

  get(workflowId: string): WorkflowTimers | undefined {
    return this.entries.get(workflowId)?.timers;
  }

  /** How many workflows and armed (not yet fired) timers it holds. */
  size(): { workflows: number; armed: number } {
    let armed = 0;
    for (const entry of this.entries.values()) for (const a of entry.armed.values()) if (a.handle) armed++;
    return { workflows: this.entries.size, armed };
  }

  /** The workflow's timers are now these; undefined: it ended, forget it. */
  set(workflowId: string, timers: WorkflowTimers | undefined): void {
    const entry = this.entries.get(workflowId);
    if (timers === undefined) {
      if (entry) for (const armed of entry.armed.values()) clearTimeout(armed.handle);
      this.entries.delete(workflowId);
      return;
    }
    if (this.stopped) return;
    const current = entry ?? { timers, armed: new Map<string, Armed>() };
    current.timers = timers;
    this.entries.set(workflowId, current);
    const wanted = new Map(timers.timers.map((t) => [timerKey(t), t]));
    for (const [key, armed] of current.armed) {
      if (wanted.has(key)) continue;
      clearTimeout(armed.handle);
      current.armed.delete(key);
    }
    for (const [key, timer] of wanted) {
      const armed = current.armed.get(key);
      if (armed?.dueAt === timer.dueAt) continue;
      clearTimeout(armed?.handle);
      current.armed.set(key, this.arm(workflowId, timer));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) for (const armed of entry.armed.values()) clearTimeout(armed.handle);
    this.entries.clear();
  }

  /**
   * A timer whose firing failed (no host answered, the store was down, the host's clock not yet
   * at the due time) is armed again with a growing delay, for as long as the fold still wants it.
   */
  private arm(workflowId: string, timer: WorkflowTimer, retryInMs?: number, failures = 0): Armed {
    const key = timerKey(timer);
    const armed: Armed = { dueAt: timer.dueAt, handle: undefined };
    const delay = retryInMs ?? Math.max(0, Date.parse(timer.dueAt) - this.now());
    armed.handle = setTimeout(() => {
      armed.handle = undefined;
      const entry = this.entries.get(workflowId);
      if (this.stopped || entry?.armed.get(key) !== armed) return;
      this.fire(timer).catch((error: unknown) => {
        this.onFailure(error, timer);
        const current = this.entries.get(workflowId);
        if (this.stopped || current?.armed.get(key) !== armed) return;
        current.armed.set(key, this.arm(workflowId, timer, Math.min(30_000, 50 * 4 ** failures), failures + 1));
      });
    }, Math.min(delay, MAX_DELAY_MS));
    return armed;
  }
}
