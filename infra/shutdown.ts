import type { Logger } from 'pino';

type Stop = () => Promise<unknown>;

/** What a process started, stopped newest first when it is told to end; runs once. */
export class ShutdownSequence {
  private readonly stops: Stop[] = [];
  private started = false;

  constructor(private readonly logger: Logger) {}

  add(stop: Stop): void {
    this.stops.push(stop);
  }

  get shuttingDown(): boolean {
    return this.started;
  }

  /** Ctrl-C and SIGTERM end the process cleanly with exit code 0. */
  onSignals(): void {
    process.once('SIGINT', () => void this.run('SIGINT', 0));
    process.once('SIGTERM', () => void this.run('SIGTERM', 0));
  }

  async run(reason: string, exitCode: number): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.logger.info({ reason }, 'shutting down');
    for (const stop of this.stops.reverse()) {
      await stop().catch((error: unknown) => this.logger.warn({ err: error }, 'error while shutting down'));
    }
    this.logger.info('stopped');
    process.exit(exitCode);
  }
}
