import type { CommandDataOf, CommandOf, CommandTypeOf } from '../../domain/commands/catalog.ts';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { ExecutionFailed, type ExecutionContext, type Executor } from '../../domain/ports/executor.ts';
import type { TakenWork, WorkItem, WorkQueue } from '../../domain/ports/work-queue.ts';
import { scrubValueWith, secretScrubber, type Scrub } from '../../domain/secrets/scrub-secrets.ts';
import type { TaskState } from '../../domain/task/index.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import type { CommandReply } from '../runtime/command-envelope.ts';
import { progressReporter } from './progress-reporter.ts';

// A worker actor of one pool: takes tasks from the pool's durable queue (up to `concurrency`
// at a time), records each step on the task aggregate through commands, heartbeats while it
// runs, and stops the executor when the task is cancelled or times out.
//
// At most once for side effects: the assignment says whether the task may run again
// (`rerunSafe`, from its executor); an executor records what it started outside (evidence)
// before waiting on it; and a task whose earlier attempt's outcome became unknown is not run
// again, but checked from that evidence when the executor can, and otherwise left for people.
//
// Commands that record the task's life (assignment, evidence, outcome) are retried under the
// same command id until a host answers, so an aggregate host that is away for a while delays
// the worker but never kills it; heartbeats go on meanwhile, so the queue does not hand the
// task to another worker. Only stop() ends the retrying.

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
  /**
   * The task's state from its stream, to learn what an assignment of a task that must not run
   * twice recorded. Without it such a task is never run after a redelivery.
   */
  readonly readTask?: (taskId: string) => Promise<TaskState>;
  /**
   * Secret values this process knows (`secretValuesOf(config)`): hidden, with credential shapes,
   * in everything the worker records or logs of a task (results, errors, progress, evidence), SE4.
   */
  readonly secretValues?: readonly string[];
}

type Outcome = 'finished' | 'handedBack' | 'superseded';
type Ending = 'handedBack' | 'superseded' | 'cancelled' | CommandOf<'task', 'CompleteTask' | 'FailTask' | 'TimeOutTask'>;

interface Prepared {
  readonly executor?: Executor;
  readonly params?: unknown;
  /** Why the task cannot run here, as the failure to record. */
  readonly problem?: ExecutionFailed;
  readonly rerunSafe: boolean;
}

export class WorkerActor {
  private running = false;
  private readonly slots: Promise<void>[] = [];
  private readonly inFlight = new Map<string, AbortController>();
  /** Tasks this worker has taken and not yet let go of: taskId → the attempt it runs. */
  private readonly held = new Map<string, number>();
  private holdsQuestions: Subscription | undefined;
  /** Aborted by stop() at once: no new assignment or outcome check waits any longer for a host. */
  private readonly noMoreWork = new AbortController();
  /** Aborted when stop() gives up waiting: ends every command still being retried, outcomes included. */
  private readonly stopping = new AbortController();

  private readonly scrub: Scrub;

  constructor(private readonly options: WorkerActorOptions) {
    this.scrub = secretScrubber(options.secretValues ?? []);
  }

  start(): void {
    this.running = true;
    // Another worker that gets one of our tasks again (the queue thought us silent, e.g. during a
    // broker restart) asks us before it takes it over.
    this.holdsQuestions = this.options.nc.subscribe(holdsSubject(this.options.prefix, this.options.workerId), {
      callback: (_error, message) => {
        const asked = parseHoldsQuestion(message.data);
        message.respond(encoder.encode(JSON.stringify({ holds: asked !== undefined && this.held.get(asked.taskId) === asked.attempt })));
      },
    });
    for (let i = 0; i < this.options.concurrency; i++) this.slots.push(this.slot());
  }

  /** Takes no more work; waits for running tasks up to `graceMs`, then hands the rest back to the queue. */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.holdsQuestions?.unsubscribe();
    this.noMoreWork.abort(new HandBack());
    const grace = setTimeout(() => {
      for (const controller of this.inFlight.values()) controller.abort(new HandBack());
      this.stopping.abort(new HandBack());
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
    // From the first command on: the queue must not think this worker silent while it waits for the aggregates.
    const heartbeat = setInterval(() => beat(work, log), Math.max(100, this.options.queue.ackWaitMs / 3));
    this.held.set(item.taskId, attempt);
    try {
      if (work.deliveryCount > 1 && (await this.heldByAnotherLiveWorker(item.taskId, log))) {
        // Left un-acked: the live holder's acks end it; were it to die, the queue delivers it again.
        return 'superseded';
      }
      const prepared = this.prepare(item);
      // One command id per delivery: a re-run someone asked for may bring the attempt number a redelivery already claimed.
      const assigned = await this.record(
        item.taskId,
        'AssignTask',
        { workerId: this.options.workerId, attempt, rerunSafe: prepared.rerunSafe },
        `assign-${item.attempt}-${work.deliveryCount}`,
        this.noMoreWork.signal,
      );
      // Not recorded (stopped while the store had trouble): leave the item un-acked so the queue delivers it again.
      if (assigned.status === 'failed') throw new Error(`AssignTask for ${item.taskId} not recorded: ${assigned.message}`);
      const decision = await this.afterAssignment(item, attempt, prepared, assigned);
      if (decision === 'run') return await this.execute(work, attempt, prepared, log);
      if (decision === 'check') await this.checkUnknownOutcome(item, prepared, log);
      else log.info({ reply: assigned }, 'task not run');
      await work.done();
      return 'finished';
    } finally {
      clearInterval(heartbeat);
      this.held.delete(item.taskId);
    }
  }

  /**
   * A redelivery whose task another worker is still running: that worker was only cut off from
   * the queue for longer than its ack wait, not dead. Taking the task over would run it twice.
   */
  private async heldByAnotherLiveWorker(taskId: string, log: Logger): Promise<boolean> {
    const read = this.options.readTask;
    if (!read) return false;
    const task = await read(taskId).catch(() => undefined);
    if (!task || task.status !== 'running') return false;
    const holder = task.attempts.at(-1)?.workerId;
    if (!holder || holder === this.options.workerId) return false;
    try {
      const reply = await this.options.nc.request(
        holdsSubject(this.options.prefix, holder),
        encoder.encode(JSON.stringify({ taskId, attempt: task.attempt })),
        { timeout: HOLDER_ANSWER_MS },
      );
      const holds = (JSON.parse(decoder.decode(reply.data)) as { holds?: unknown }).holds === true;
      if (holds) log.info({ holder }, 'task delivered again while its worker still runs it; left to that worker');
      return holds;
    } catch {
      return false; // no answer: the holder is gone, and the task is taken over as before
    }
  }

  private prepare(item: WorkItem): Prepared {
    const executor = this.options.executors.get(item.taskType);
    if (!executor) return { problem: new ExecutionFailed('UnknownTaskType', `no executor for task type "${item.taskType}"`, false), rerunSafe: true };
    const params = executor.parameters.safeParse(item.payload);
    if (!params.success) {
      // Nothing runs with parameters it refuses: running it again repeats nothing.
      return {
        executor,
        problem: new ExecutionFailed('InvalidParameters', params.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), false),
        rerunSafe: true,
      };
    }
    return { executor, params: params.data, rerunSafe: executor.rerunSafe?.(params.data) ?? true };
  }

  /**
   * What the assignment recorded. An accepted assignment of a task that may run again, within
   * its attempts, assigned it to this worker; otherwise the task's state says whether it did, or
   * found the earlier attempt's outcome unknown, or failed the task for want of attempts.
   */
  private async afterAssignment(item: WorkItem, attempt: number, prepared: Prepared, reply: CommandReply): Promise<'run' | 'check' | 'skip'> {
    const unknown = reply.status === 'rejected' && reply.code === 'OutcomeUnknown';
    if (reply.status !== 'accepted' && !unknown) return 'skip';
    if (!unknown && prepared.rerunSafe && attempt <= item.maxAttempts) return 'run';
    const read = this.options.readTask;
    if (!read) return !unknown && prepared.rerunSafe === false && attempt === item.attempt && attempt <= item.maxAttempts ? 'run' : 'skip';
    const task = await read(item.taskId);
    if (task.status === 'outcomeUnknown') return 'check';
    return task.status === 'running' && task.attempt === attempt && task.attempts.at(-1)?.workerId === this.options.workerId ? 'run' : 'skip';
  }

  private async execute(work: TakenWork, attempt: number, prepared: Prepared, log: Logger): Promise<Outcome> {
    const { item } = work;
    const ending = await this.runExecutor(item, attempt, prepared, log);
    if (ending === 'handedBack' || ending === 'superseded') return ending; // not acked: the queue gives it to another worker, or another holds it
    // Heartbeats go on while this is retried: the work is done, only its record is waiting.
    if (ending !== 'cancelled') await this.finish(item.taskId, ending.type, ending.data, attempt);
    await work.done();
    return 'finished';
  }

  /** Runs the executor; says how the attempt ended, to record. */
  private async runExecutor(item: WorkItem, attempt: number, prepared: Prepared, log: Logger): Promise<Ending> {
    const controller = new AbortController();
    this.inFlight.set(item.taskId, controller);
    const timeout = setTimeout(() => controller.abort(new TimedOut()), item.timeoutMs);
    const cancelled = this.onCancel(item.taskId, () => controller.abort(new Cancelled()));
    const started = Date.now();
    const progress = progressReporter({
      attempt,
      intervalMs: this.options.progressIntervalMs ?? 250,
      logger: log,
      send: (data, n) => this.command(item.taskId, 'ReportProgress', data, `progress-${attempt}-${n}`),
      onSuperseded: () => controller.abort(new Superseded()),
    });
    try {
      if (prepared.problem || !prepared.executor)
        throw prepared.problem ?? new ExecutionFailed('UnknownTaskType', `no executor for task type "${item.taskType}"`, false);
      const executor = prepared.executor;
      let evidenceCount = 0;
      const context: ExecutionContext = {
        taskId: item.taskId,
        attempt,
        workspaceRoot: this.options.workspaceRoot,
        programs: this.options.programs,
        signal: controller.signal,
        progress: (update) => progress.report(executor, update),
        recordEvidence: (evidence) => this.recordEvidence(item.taskId, attempt, evidence, ++evidenceCount, controller),
      };
      const result = await executor.execute(prepared.params, context);
      await progress.flush();
      return { type: 'CompleteTask', data: { attempt, result: result ?? null, durationMs: Date.now() - started } };
    } catch (error) {
      await progress.flush();
      const reason: unknown = controller.signal.reason;
      if (reason instanceof HandBack) return 'handedBack';
      if (reason instanceof Superseded) return 'superseded';
      if (reason instanceof Cancelled) {
        log.info('task cancelled while running');
        return 'cancelled';
      }
      if (reason instanceof TimedOut) return { type: 'TimeOutTask', data: { attempt, rerunSafe: prepared.rerunSafe } };
      const failure =
        error instanceof ExecutionFailed
          ? { code: error.code, message: error.message, retryable: error.retryable }
          : { code: 'ExecutorError', message: (error as Error).message ?? String(error), retryable: false };
      failure.message = this.scrub(failure.message);
      log.warn({ failure }, 'task failed');
      return { type: 'FailTask', data: { attempt, error: { code: failure.code, message: failure.message }, retryable: failure.retryable } };
    } finally {
      clearTimeout(timeout);
      cancelled.unsubscribe();
      this.inFlight.delete(item.taskId);
    }
  }

  /** Recorded before the executor goes on; a task cancelled or handed to another worker meanwhile stops it. */
  private async recordEvidence(
    taskId: string,
    attempt: number,
    evidence: Readonly<Record<string, string>>,
    n: number,
    controller: AbortController,
  ): Promise<void> {
    const reply = await this.record(
      taskId,
      'RecordAttemptEvidence',
      { attempt, evidence },
      `evidence-${attempt}-${n}`,
      AbortSignal.any([this.stopping.signal, controller.signal]),
    );
    if (reply.status === 'accepted') return;
    if (reply.status === 'rejected' && reply.code === 'TaskCancelled') controller.abort(new Cancelled());
    else if (reply.status === 'rejected' && reply.code === 'StaleAttempt') controller.abort(new Superseded());
    throw new ExecutionFailed('EvidenceNotRecorded', `what attempt ${attempt} started could not be recorded: ${describe(reply)}`, false);
  }

  /**
   * The earlier attempt's outcome is unknown: when its executor can find out from the evidence
   * that attempt recorded, it does, and the real outcome is recorded; otherwise people decide.
   */
  private async checkUnknownOutcome(item: WorkItem, prepared: Prepared, log: Logger): Promise<void> {
    const task = await this.options.readTask!(item.taskId);
    if (task.status !== 'outcomeUnknown' || !task.outcomeUnknown) return;
    const { attempt, evidence } = task.outcomeUnknown;
    const { executor, params } = prepared;
    if (!executor?.checkOutcome || prepared.problem || !evidence || Object.keys(evidence).length === 0) {
      log.warn({ unknownAttempt: attempt }, 'outcome of an earlier attempt is unknown and cannot be checked here; left for people to resolve');
      return;
    }
    const context: ExecutionContext = {
      taskId: item.taskId,
      attempt,
      workspaceRoot: this.options.workspaceRoot,
      programs: this.options.programs,
      // Not acked if stopped: the next worker checks again.
      signal: this.noMoreWork.signal,
      progress: () => undefined,
    };
    const checked = await executor
      .checkOutcome(params, evidence, context)
      .catch((error: unknown) => ({ outcome: 'unknown' as const, reason: (error as Error).message ?? String(error) }));
    // Stopped mid-check: not acked, so the next worker checks again.
    if (this.noMoreWork.signal.aborted) throw this.noMoreWork.signal.reason;
    if (checked.outcome === 'unknown') {
      log.warn({ unknownAttempt: attempt, reason: checked.reason }, 'checked an unknown outcome and could not tell; left for people to resolve');
      return;
    }
    const resolution =
      checked.outcome === 'completed'
        ? { resolution: 'completed' as const, result: checked.result ?? null }
        : { resolution: 'failed' as const, reason: `${checked.error.code}: ${checked.error.message}`.slice(0, 1_000) };
    const reply = await this.record(item.taskId, 'ResolveTaskOutcome', { ...resolution, via: 'check' }, `resolve-${attempt}`, this.noMoreWork.signal);
    log.info({ unknownAttempt: attempt, resolution: resolution.resolution, reply }, 'resolved an unknown outcome by checking it');
  }

  /** An attempt's end, recorded whatever it takes; only `failed` after stop() gave up leaves the item for another worker. */
  private async finish<T extends CommandTypeOf<'task'>>(taskId: string, type: T, data: CommandDataOf<'task', T>, attempt: number): Promise<void> {
    const reply = await this.record(taskId, type, data, `${type}-${attempt}`);
    if (reply.status === 'failed') throw new Error(`${type} for ${taskId} not recorded: ${reply.message}`);
  }

  private onCancel(taskId: string, cancel: () => void): Subscription {
    return this.options.nc.subscribe(`${this.options.prefix ?? 'orch'}.signal.task.${taskId}`, { callback: () => cancel() });
  }

  /** Retried under the same command id until a host answers, or stop() gives up. */
  private record<T extends CommandTypeOf<'task'>>(
    taskId: string,
    type: T,
    data: CommandDataOf<'task', T>,
    key: string,
    signal: AbortSignal = this.stopping.signal,
  ): Promise<CommandReply> {
    let warned = false;
    return this.options.commands.sendUntilAnswered({ category: 'task', id: taskId }, this.envelope(taskId, type, data, key), {
      signal,
      onRetry: (error, tries) => {
        const fields = { taskId, type, tries, err: error.message };
        if (!warned) this.options.logger.warn(fields, 'command not answered yet; retrying under the same id');
        else this.options.logger.debug(fields, 'command still not answered; retrying');
        warned = true;
      },
    });
  }

  private command<T extends CommandTypeOf<'task'>>(taskId: string, type: T, data: CommandDataOf<'task', T>, key: string): Promise<CommandReply> {
    return this.options.commands.send({ category: 'task', id: taskId }, this.envelope(taskId, type, data, key));
  }

  // Deterministic command ids: a retried command after a lost reply is recognised, not repeated.
  private envelope<T extends CommandTypeOf<'task'>>(taskId: string, type: T, data: CommandDataOf<'task', T>, key: string) {
    // Executor output enters the product here: whatever it holds is recorded scrubbed (SE4).
    return { commandId: `${taskId}-${key}`, type, data: scrubValueWith(data, this.scrub), actor: `worker:${this.options.workerId}`, correlationId: taskId };
  }
}

/** A heartbeat that cannot go out (the connection is reconnecting) is simply the next one's job. */
function beat(work: TakenWork, log: Logger): void {
  try {
    work.heartbeat();
  } catch (error) {
    log.debug({ err: error }, 'heartbeat not sent');
  }
}

const describe = (reply: CommandReply): string =>
  reply.status === 'invalid' ? `invalid: ${reply.errors.join('; ')}` : reply.status === 'accepted' ? 'accepted' : `${reply.code}: ${reply.message}`;

class HandBack extends Error {}
class Superseded extends Error {}
class Cancelled extends Error {}
class TimedOut extends Error {}

/** How long a worker waits for the holder of a redelivered task to say it still runs it. */
const HOLDER_ANSWER_MS = 1_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const holdsSubject = (prefix: string | undefined, workerId: string): string => `${prefix ?? 'orch'}.worker.${workerId}.holds`;

/** `{ taskId, attempt }`, or undefined for anything else (a question from outside is answered "no"). */
function parseHoldsQuestion(data: Uint8Array): { taskId: string; attempt: number } | undefined {
  try {
    const value = JSON.parse(decoder.decode(data)) as { taskId?: unknown; attempt?: unknown };
    return typeof value.taskId === 'string' && typeof value.attempt === 'number' ? { taskId: value.taskId, attempt: value.attempt } : undefined;
  } catch {
    return undefined;
  }
}
