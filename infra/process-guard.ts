import type { Logger } from 'pino';

// A promise rejected with nobody listening, or an exception nothing caught, leaves the process
// in a state nobody reasoned about. It ends here: one fatal line that says what and where, and a
// non-zero exit so the supervisor restarts it and the operator sees why. Never exit code 0.

export const UNHANDLED_FATAL = 'unhandled error; exiting';

export interface ProcessGuardOptions {
  readonly logger: Logger;
  /** What the process is (its roles), written with the fatal line. */
  readonly context: Record<string, unknown>;
  /** Exit code; default 70 (EX_SOFTWARE). */
  readonly exitCode?: number;
}

export function installProcessGuard({ logger, context, exitCode = 70 }: ProcessGuardOptions): void {
  let exiting = false;
  const fatal = (kind: 'unhandledRejection' | 'uncaughtException') => (reason: unknown) => {
    if (exiting) return;
    exiting = true;
    const err = reason instanceof Error ? reason : new Error(`non-Error thrown: ${String(reason)}`);
    try {
      logger.fatal({ ...context, kind, err, pid: process.pid }, UNHANDLED_FATAL);
      logger.flush?.();
    } finally {
      // Also on stderr, in case the logger is what failed.
      process.stderr.write(`fatal ${kind}: ${err.stack ?? err.message}\n`);
      process.exit(exitCode);
    }
  };
  process.on('unhandledRejection', fatal('unhandledRejection'));
  process.on('uncaughtException', fatal('uncaughtException'));
}
