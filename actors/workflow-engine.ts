import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import { parseStreamName, streamName } from '../domain/streams.ts';
import type { TaskRoute } from './conversation-intake.ts';
import type { CommandClient } from './runtime/command-client.ts';
import type { CommandReply } from './runtime/command-envelope.ts';
import { EventReactor, type Hold } from './runtime/event-reactor.ts';
import { KeyedMailbox } from './runtime/keyed-mailbox.ts';

// The workflow engine: the process manager between the Workflow aggregate and the tasks that
// run its steps. A scheduled step becomes a queued task (`${workflowId}_${stepId}_${attempt}`,
// one attempt per task: the workflow owns retries); the task's events come back as step
// outcomes; a retry, an approval's timeout and the workflow's maximum time are timers armed
// from their events' due times. Every command it sends has an id derived from what caused it,
// and the deciders ignore what was already decided, so replaying the log after a crash sends
// nothing twice that matters. The workflow checkpoint never passes a workflow that is still
// running, so a restart finds every timer again and arms it for its original due time.

const started = z.object({ requestedBy: z.string(), timesOutAt: z.string(), conversationId: z.string().optional() });
const toRun = z.object({
  stepId: z.string(),
  attempt: z.number(),
  taskId: z.string(),
  taskType: z.string(),
  pool: z.string().optional(),
  params: z.record(z.string(), z.unknown()),
  timeoutMs: z.number().optional(),
  dryRun: z.boolean(),
});
const retry = toRun.extend({ dueAt: z.string() });
const approval = z.object({ stepId: z.string(), visit: z.number(), dueAt: z.string(), remindAt: z.string().optional(), approvers: z.array(z.string()), title: z.string().optional() });
const decided = z.object({ stepId: z.string(), visit: z.number() });
const granted = decided.extend({ approved: z.boolean() });
const ended = z.object({ tasksToCancel: z.array(z.string()).optional() });
const queued = z.object({ workflowId: z.string().optional(), stepId: z.string().optional() });
const taskFailed = z.object({ final: z.boolean(), retryable: z.boolean(), error: z.object({ code: z.string(), message: z.string() }) });

interface RunningWorkflow {
  readonly requestedBy: string;
  readonly conversationId?: string;
  readonly hold: Hold;
  readonly timers: Map<string, NodeJS.Timeout>;
}

export interface WorkflowEngineOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly logger: Logger;
  readonly routeTask: (taskType: string) => TaskRoute | undefined;
  /** Told when an approval's reminder is due (the front end nudges the approvers). */
  readonly onReminder?: (reminder: { workflowId: string; stepId: string; approvers: readonly string[]; dueAt: string }) => void;
  readonly now?: () => number;
}

export class WorkflowEngine {
  private readonly workflows = new Map<string, RunningWorkflow>();
  /** taskId → the step it runs, from TaskQueued (or its stream after a restart). */
  private readonly steps = new Map<string, { workflowId: string; stepId: string; attempt: number }>();
  private readonly workflowEvents: EventReactor;
  private readonly taskEvents: EventReactor;
  private readonly now: () => number;
  private readonly mailbox = new KeyedMailbox();
  private stopped = false;

  constructor(private readonly options: WorkflowEngineOptions) {
    this.now = options.now ?? Date.now;
    const common = { store: options.store, checkpoints: options.checkpoints, logger: options.logger };
    // Events of different workflows (and tasks) are handled concurrently, each key's in order;
    // a hold per event keeps the checkpoint before work that has not finished.
    this.workflowEvents = new EventReactor({
      ...common,
      name: 'workflow-engine-workflows',
      category: 'workflow',
      handle: (event, context) => {
        const started = event.type === 'WorkflowStarted' ? context.hold() : undefined;
        this.concurrently(parseStreamName(event.stream).id, context.hold(), () => this.onWorkflowEvent(event, started));
      },
    });
    this.taskEvents = new EventReactor({
      ...common,
      name: 'workflow-engine-tasks',
      category: 'task',
      handle: (event, context) => this.concurrently(parseStreamName(event.stream).id, context.hold(), () => this.onTaskEvent(event)),
    });
  }

  async start(): Promise<void> {
    await this.workflowEvents.start();
    await this.taskEvents.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const workflow of this.workflows.values()) for (const timer of workflow.timers.values()) clearTimeout(timer);
    await this.taskEvents.stop();
    await this.workflowEvents.stop();
    await this.mailbox.idle();
  }

  private concurrently(key: string, hold: Hold, work: () => Promise<void>): void {
    void this.mailbox
      .run(key, work)
      .then(
        () => hold.release(),
        (error: unknown) => {
          // Kept held: the checkpoint stays before this event, so a restart handles it again.
          this.options.logger.error({ err: error, key }, 'workflow engine failed to handle an event');
        },
      );
  }

  private async onWorkflowEvent(event: RecordedEvent, startedHold: Hold | undefined): Promise<void> {
    const workflowId = parseStreamName(event.stream).id;
    if (event.type === 'WorkflowStarted' && startedHold) {
      if (this.workflows.has(workflowId)) return startedHold.release();
      const data = started.parse(event.data);
      const workflow: RunningWorkflow = { requestedBy: data.requestedBy, conversationId: data.conversationId, hold: startedHold, timers: new Map() };
      this.workflows.set(workflowId, workflow);
      this.arm(workflowId, 'workflow-timeout', data.timesOutAt, () => this.send('workflow', workflowId, `timeout-${workflowId}`, 'TimeOutWorkflow', {}));
      return;
    }
    const workflow = this.workflows.get(workflowId);
    if (!workflow) return; // finished before the checkpoint: nothing left to do
    switch (event.type) {
      case 'StepScheduled':
        return this.runStep(workflowId, workflow, toRun.parse(event.data));
      case 'StepRetryScheduled': {
        const step = retry.parse(event.data);
        this.arm(workflowId, `retry-${step.taskId}`, step.dueAt, () => this.runStep(workflowId, workflow, step));
        return;
      }
      case 'ApprovalRequested': {
        const gate = approval.parse(event.data);
        const key = `${gate.stepId}-${gate.visit}`;
        this.arm(workflowId, `approval-${key}`, gate.dueAt, () =>
          this.send('workflow', workflowId, `approval-timeout-${workflowId}-${key}`, 'TimeOutApproval', { stepId: gate.stepId, visit: gate.visit }),
        );
        if (gate.remindAt) {
          this.arm(workflowId, `reminder-${key}`, gate.remindAt, async () =>
            this.options.onReminder?.({ workflowId, stepId: gate.stepId, approvers: gate.approvers, dueAt: gate.dueAt }),
          );
        }
        return;
      }
      case 'ApprovalGranted': {
        const gate = granted.parse(event.data);
        if (gate.approved) this.disarmGate(workflow, `${gate.stepId}-${gate.visit}`);
        return;
      }
      case 'ApprovalRejected':
      case 'ApprovalTimedOut': {
        const gate = decided.parse(event.data);
        this.disarmGate(workflow, `${gate.stepId}-${gate.visit}`);
        return;
      }
      case 'WorkflowCompleted':
      case 'WorkflowFailed':
      case 'WorkflowCancelled':
      case 'WorkflowTimedOut': {
        const { tasksToCancel = [] } = ended.parse(event.data);
        for (const timer of workflow.timers.values()) clearTimeout(timer);
        this.workflows.delete(workflowId);
        for (const taskId of tasksToCancel) {
          await this.send('task', taskId, `cancel-${taskId}`, 'CancelTask', { reason: `workflow ${workflowId} ended (${event.type})`, requestedBy: 'workflow-engine' });
        }
        workflow.hold.release();
        return;
      }
      default:
        return;
    }
  }

  private disarmGate(workflow: RunningWorkflow, key: string): void {
    for (const name of [`approval-${key}`, `reminder-${key}`]) {
      clearTimeout(workflow.timers.get(name));
      workflow.timers.delete(name);
    }
  }

  /** A task step's attempt: queued as a task, or, for a side-effecting step of a dry run, recorded without running. */
  private async runStep(workflowId: string, workflow: RunningWorkflow, step: z.infer<typeof toRun>): Promise<void> {
    this.steps.set(step.taskId, { workflowId, stepId: step.stepId, attempt: step.attempt });
    if (step.dryRun) {
      const output = { dryRun: true, wouldRun: { taskType: step.taskType, params: step.params } };
      await this.send('workflow', workflowId, `dry-run-${step.taskId}`, 'RecordStepCompleted', { stepId: step.stepId, attempt: step.attempt, output });
      return;
    }
    const route = this.options.routeTask(step.taskType);
    if (!route) {
      await this.send('workflow', workflowId, `no-route-${step.taskId}`, 'RecordStepFailed', {
        stepId: step.stepId,
        attempt: step.attempt,
        error: { code: 'UnknownTaskType', message: `no worker pool runs ${step.taskType} tasks here` },
        retryable: false,
      });
      return;
    }
    await this.send('task', step.taskId, `queue-${step.taskId}`, 'QueueTask', {
      taskType: step.taskType,
      pool: step.pool ?? route.pool,
      payload: step.params,
      timeoutMs: step.timeoutMs ?? route.timeoutMs,
      maxAttempts: 1,
      workflowId,
      stepId: step.stepId,
      requestedBy: workflow.requestedBy,
      ...(workflow.conversationId ? { conversationId: workflow.conversationId } : {}),
    });
  }

  private async onTaskEvent(event: RecordedEvent): Promise<void> {
    if (!['TaskAssigned', 'TaskCompleted', 'TaskFailed', 'TaskCancelled'].includes(event.type)) return;
    const taskId = parseStreamName(event.stream).id;
    const step = await this.stepOf(taskId);
    if (!step) return;
    const { workflowId, stepId, attempt } = step;
    switch (event.type) {
      case 'TaskAssigned':
        await this.send('workflow', workflowId, `step-started-${taskId}`, 'RecordStepStarted', { stepId, attempt, workerId: (event.data as { workerId?: string }).workerId });
        return;
      case 'TaskCompleted':
        await this.send('workflow', workflowId, `step-completed-${taskId}`, 'RecordStepCompleted', { stepId, attempt, output: (event.data as { result?: unknown }).result ?? null });
        this.steps.delete(taskId);
        return;
      case 'TaskFailed': {
        const failed = taskFailed.parse(event.data);
        if (!failed.final) return;
        // The jitter of the retry's backoff is drawn here: the decider draws no random numbers.
        await this.send('workflow', workflowId, `step-failed-${taskId}`, 'RecordStepFailed', { stepId, attempt, error: failed.error, retryable: failed.retryable, jitter: randomInt(0, 1_000_001) / 1_000_000 });
        this.steps.delete(taskId);
        return;
      }
      case 'TaskCancelled':
        await this.send('workflow', workflowId, `step-cancelled-${taskId}`, 'RecordStepFailed', {
          stepId,
          attempt,
          error: { code: 'TaskCancelled', message: String((event.data as { reason?: unknown }).reason ?? 'cancelled') },
          retryable: false,
        });
        this.steps.delete(taskId);
        return;
    }
  }

  /** Which workflow step a task runs; from its TaskQueued when not seen since the start. */
  private async stepOf(taskId: string): Promise<{ workflowId: string; stepId: string; attempt: number } | undefined> {
    const known = this.steps.get(taskId);
    if (known) return known;
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const first = events[0];
    if (first?.type !== 'TaskQueued') return undefined;
    const data = queued.parse(first.data);
    if (!data.workflowId || !data.stepId) return undefined;
    const attempt = Number(taskId.slice(taskId.lastIndexOf('_') + 1));
    if (!Number.isInteger(attempt) || attempt < 1) return undefined;
    const step = { workflowId: data.workflowId, stepId: data.stepId, attempt };
    this.steps.set(taskId, step);
    return step;
  }

  /** Runs `fire` at `dueAt` (at once when past), once; re-arming the same name replaces it. */
  private arm(workflowId: string, name: string, dueAt: string, fire: () => Promise<unknown>): void {
    const workflow = this.workflows.get(workflowId);
    if (!workflow || this.stopped) return;
    clearTimeout(workflow.timers.get(name));
    const delay = Math.max(0, Date.parse(dueAt) - this.now());
    const timer = setTimeout(() => {
      workflow.timers.delete(name);
      if (this.stopped) return;
      fire().catch((error: unknown) => this.options.logger.error({ err: error, workflowId, timer: name }, 'a workflow timer failed to fire'));
    }, Math.min(delay, 2_147_483_647));
    workflow.timers.set(name, timer);
  }

  private async send(category: 'workflow' | 'task', id: string, commandId: string, type: string, data: Record<string, unknown>): Promise<void> {
    const reply: CommandReply = await this.options.commands.send({ category, id }, { commandId, type, actor: 'workflow-engine', data });
    if (reply.status === 'accepted') return;
    // Already decided (a replay, a race with a person's click, a finished workflow): nothing to do.
    const level = reply.status === 'rejected' ? 'debug' : 'error';
    this.options.logger[level]({ category, id, type, reply }, 'workflow engine command not applied');
  }
}
