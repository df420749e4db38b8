import type { Logger } from 'pino';
import { overallPercent, type Executor, type ProgressUpdate } from '../../domain/ports/executor.ts';
import type { CommandDataOf } from '../../domain/commands/catalog.ts';
import type { CommandReply } from '../runtime/command-envelope.ts';

type ProgressData = CommandDataOf<'task', 'ReportProgress'>;

// Progress of one attempt, coalesced: the latest state wins, at most one command per interval,
// and never backwards. A report is news, not a record: one that cannot be delivered (no
// aggregate host, a timeout) is dropped and the next one carries the latest state. Nothing
// here ever throws to the executor or leaves a promise rejected.

export interface ProgressReporter {
  report(executor: Executor, update: ProgressUpdate): void;
  /** Sends what is pending and waits for what is on its way; never rejects. */
  flush(): Promise<void>;
}

export interface ProgressReporterOptions {
  readonly attempt: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Sends one ReportProgress; `n` numbers the reports of the attempt, for the command id. */
  readonly send: (data: ProgressData, n: number) => Promise<CommandReply>;
  /** Another worker holds the attempt now (the aggregate answered StaleAttempt). */
  readonly onSuperseded: () => void;
}

export function progressReporter({ attempt, intervalMs, logger, send, onSuperseded }: ProgressReporterOptions): ProgressReporter {
  let lastSent = 0;
  let best = -1;
  let pending: ProgressData | undefined;
  let sending: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let sequence = 0;
  let dropped = 0;

  const sendPending = () => {
    timer = undefined;
    if (!pending) return;
    const data = pending;
    pending = undefined;
    lastSent = Date.now();
    const n = ++sequence;
    sending = sending.then(async () => {
      try {
        const reply = await send(data, n);
        if (reply.status === 'rejected' && reply.code === 'StaleAttempt') onSuperseded();
      } catch (error) {
        // Dropped: the next report (or the final state) says the same and more.
        if (dropped++ === 0) logger.warn({ err: error }, 'progress report not delivered; dropping reports until the aggregates answer again');
      }
    });
  };

  return {
    report(executor, update) {
      const percent = overallPercent(executor.stages, update.stage, update.fraction);
      if (percent < best) return;
      best = percent;
      pending = { attempt, stage: update.stage, percent, details: update.details, counters: update.counters };
      const wait = intervalMs - (Date.now() - lastSent);
      if (wait <= 0) sendPending();
      else timer ??= setTimeout(sendPending, wait);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      sendPending();
      await sending;
    },
  };
}
