import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { ExecutionFailed, overallPercent, type Executor, type ProgressUpdate } from '../../domain/ports/executor.ts';
import type { TakenWork, WorkQueue } from '../../domain/ports/work-queue.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import type { CommandReply } from '../runtime/command-envelope.ts';

// A worker actor of one pool: takes tasks from the pool's durable queue (up to `concurrency`
// at a time), records each step on the task aggregate through commands, heartbeats while it
// runs, and stops the executor when the task is cancelled or times out.

export interface WorkerActorOptions {
  readonly workerId: string;
  readonly pool: string;
  readonly concurrency: number;
  readonly queue: WorkQueue;
  readonly commands: CommandClient;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly workspaceRoot: string;
  /** Configured paths of the programs executors run (`sf` ← SF_BIN), handed to each execution. */
  readonly programs?: Readonly<Record<string, string>>;
  /** For cancellation signals on `<prefix>.signal.task.<id>`. */
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly prefix?: string;
  /** Progress commands per task at most this often (the final state always goes out). */
  readonly progressIntervalMs?: number;
}

type Outcome = 'finished' | 'handedBack' | 'superseded';

export class WorkerActor {
  private running = false;
  private readonly slots: Promise<void>[] = [];
  private readonly inFlight = new Map<string, AbortController>();

  constructor(private readonly options: WorkerActorOptions) {}

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.concurrency; i++) this.slots.push(this.slot());
  }

  /** Takes no more work; waits for running tasks up to `graceMs`, then hands the rest back to the queue. */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    const grace = setTimeout(() => {
      for (const controller of this.inFlight.values()) controller.abort(new HandBack());
    }, graceMs);
    await Promise.all(this.slots);
    clearTimeout(grace);
  }

  private async slot(): Promise<void> {
    while (this.running) {
      let work: TakenWork | undefined;
      try {
        work = await this.options.queue.take(this.options.pool, 1_000);
        if (work) await this.run(work);
      } catch (error) {
        this.options.logger.error({ err: error, taskId: work?.item.taskId }, 'worker slot error');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async run(work: TakenWork): Promise<Outcome> {
    const { item } = work;
    const attempt = item.attempt + work.deliveryCount - 1;
    const log = this.options.logger.child({ taskId: item.taskId, attempt, workerId: this.options.workerId });
    const assigned = await this.command(item.taskId, 'AssignTask', { workerId: this.options.workerId, attempt }, `assign-${attempt}`);
    // Not recorded (store trouble): leave the item un-acked so the queue delivers it again.
    if (assigned.status === 'failed') throw new Error(`AssignTask for ${item.taskId} not recorded: ${assigned.message}`);
    if (assigned.status !== 'accepted' || attempt > item.maxAttempts) {
      // Finished, cancelled, superseded, or out of attempts (the aggregate recorded the failure).
      log.info({ reply: assigned }, 'task not run');
      await work.done();
      return 'finished';
    }

    const controller = new AbortController();
    this.inFlight.set(item.taskId, controller);
    const heartbeat = setInterval(() => work.heartbeat(), Math.max(100, this.options.queue.ackWaitMs / 3));
    const timeout = setTimeout(() => controller.abort(new TimedOut()), item.timeoutMs);
    const cancelled = this.onCancel(item.taskId, () => controller.abort(new Cancelled()));
    const started = Date.now();
    const progress = this.progressReporter(item.taskId, attempt, controller);
    try {
      const executor = this.options.executors.get(item.taskType);
      if (!executor) throw new ExecutionFailed('UnknownTaskType', `no executor for task type "${item.taskType}"`, false);
      const params = executor.parameters.safeParse(item.payload);
      if (!params.success) throw new ExecutionFailed('InvalidParameters', params.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), false);
      const result = await executor.execute(params.data, {
        taskId: item.taskId,
        attempt,
        workspaceRoot: this.options.workspaceRoot,
        programs: this.options.programs,
        signal: controller.signal,
        progress: (update) => progress.report(executor, update),
      });
      await progress.flush();
      await this.finish(work, item.taskId, 'CompleteTask', { attempt, result: result ?? null, durationMs: Date.now() - started }, attempt);
      return 'finished';
    } catch (error) {
      await progress.flush();
      const reason = controller.signal.reason;
      if (reason instanceof HandBack) return 'handedBack'; // not acked: the queue gives it to another worker
      if (reason instanceof Superseded) return 'superseded'; // another worker holds it now
      if (reason instanceof Cancelled) {
        log.info('task cancelled while running');
        await work.done();
        return 'finished';
      }
      if (reason instanceof TimedOut) {
        await this.finish(work, item.taskId, 'TimeOutTask', { attempt }, attempt);
        return 'finished';
      }
      const failure =
        error instanceof ExecutionFailed
          ? { code: error.code, message: error.message, retryable: error.retryable }
          : { code: 'ExecutorError', message: (error as Error).message ?? String(error), retryable: false };
      log.warn({ failure }, 'task failed');
      await this.finish(work, item.taskId, 'FailTask', { attempt, error: { code: failure.code, message: failure.message }, retryable: failure.retryable }, attempt);
      return 'finished';
    } finally {
      clearInterval(heartbeat);
      clearTimeout(timeout);
      cancelled.unsubscribe();
      this.inFlight.delete(item.taskId);
    }
  }

  private async finish(work: TakenWork, taskId: string, type: string, data: Record<string, unknown>, attempt: number): Promise<void> {
    const reply = await this.command(taskId, type, data, `${type}-${attempt}`);
    if (reply.status === 'failed') throw new Error(`${type} for ${taskId} not recorded: ${reply.message}`);
    await work.done();
  }

  private onCancel(taskId: string, cancel: () => void): Subscription {
    return this.options.nc.subscribe(`${this.options.prefix ?? 'orch'}.signal.task.${taskId}`, { callback: () => cancel() });
  }

  /** Coalesces progress: latest state wins, at most one command per interval, and never backwards. */
  private progressReporter(taskId: string, attempt: number, controller: AbortController) {
    const interval = this.options.progressIntervalMs ?? 250;
    let lastSent = 0;
    let best = -1;
    let pending: Record<string, unknown> | undefined;
    let sending: Promise<unknown> = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    let sequence = 0;
    const send = () => {
      timer = undefined;
      if (!pending) return;
      const data = pending;
      pending = undefined;
      lastSent = Date.now();
      const n = ++sequence;
      sending = sending.then(async () => {
        const reply = await this.command(taskId, 'ReportProgress', data, `progress-${attempt}-${n}`);
        if (reply.status === 'rejected' && reply.code === 'StaleAttempt') controller.abort(new Superseded());
      });
    };
    return {
      report: (executor: Executor, update: ProgressUpdate) => {
        const percent = overallPercent(executor.stages, update.stage, update.fraction);
        if (percent < best) return;
        best = percent;
        pending = { attempt, stage: update.stage, percent, details: update.details, counters: update.counters };
        const wait = interval - (Date.now() - lastSent);
        if (wait <= 0) send();
        else timer ??= setTimeout(send, wait);
      },
      flush: async () => {
        if (timer) clearTimeout(timer);
        send();
        await sending.catch(() => undefined);
      },
    };
  }

  private command(taskId: string, type: string, data: Record<string, unknown>, key: string): Promise<CommandReply> {
    // Deterministic command ids: a retried command after a lost reply is recognised, not repeated.
    return this.options.commands.send(
      { category: 'task', id: taskId },
      { commandId: `${taskId}-${key}`, type, data, actor: `worker:${this.options.workerId}`, correlationId: taskId },
    );
  }
}

class HandBack extends Error {}
class Superseded extends Error {}
class Cancelled extends Error {}
class TimedOut extends Error {}
