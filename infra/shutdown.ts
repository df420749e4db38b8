import type { Logger } from 'pino';

type Stop = () => Promise<unknown>;

export interface ShutdownOptions {
  /** Longest the stops may take before the process exits anyway; none by default. */
  readonly deadlineMs?: number;
}

/** What a process started, stopped newest first when it is told to end; runs once. */
export class ShutdownSequence {
  private readonly stops: Stop[] = [];
  private started = false;

  constructor(
    private readonly logger: Logger,
    private readonly options: ShutdownOptions = {},
  ) {}

  add(stop: Stop): void {
    this.stops.push(stop);
  }

  get shuttingDown(): boolean {
    return this.started;
  }

  /**
   * Ctrl-C, SIGTERM and SIGHUP (its terminal closed) end the process cleanly with exit code 0.
   * Another one a second or more later (Ctrl-C pressed again) exits at once; 'exit' handlers
   * (the embedded nats-server's) still run. Sooner ones are the same Ctrl-C passed on by a
   * launcher: npm forwards SIGINT to its child, which the terminal has signalled already.
   */
  onSignals(): void {
    let firstAt = 0;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (!this.started) {
          firstAt = Date.now();
          return void this.run(signal, 0);
        }
        if (Date.now() - firstAt < 1_000) return;
        this.logger.warn({ signal }, 'signalled again while stopping: exiting now');
        process.exit(1);
      });
    }
  }

  /**
   * Ends the process cleanly once the process that started it is gone (its parent pid changes):
   * `npm start` killed with SIGKILL (or any launcher that exits without passing its signal on)
   * must not leave the product running unseen.
   */
  onParentExit(intervalMs = 500): void {
    const parent = process.ppid;
    const timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer);
      void this.run(`parent process ${parent} exited`, 0);
    }, intervalMs);
    timer.unref();
  }

  async run(reason: string, exitCode: number): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.logger.info({ reason }, 'shutting down');
    if (this.options.deadlineMs !== undefined) {
      const { deadlineMs } = this.options;
      setTimeout(() => {
        this.logger.warn({ deadlineMs }, 'stopping took too long: exiting now');
        process.exit(exitCode);
      }, deadlineMs).unref();
    }
    for (const stop of this.stops.reverse()) {
      await stop().catch((error: unknown) => this.logger.warn({ err: error }, 'error while shutting down'));
    }
    this.logger.info('stopped');
    process.exit(exitCode);
  }
}
