import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { RecordedCall } from '../support/slack-web-api-standin.ts';
import { taskEnding, workflowEnding, type Ending, type TaskItem, type WorkflowItem } from './workload.ts';
import { deployComponent, type ChaosWorkspace } from './workspace.ts';
import { parseStreamName, streamName } from '../../domain/streams.ts';
import { workflowEventIn } from '../../domain/events/typed-events.ts';

// The figures of a fault run, each from its own witness: endings and event-log integrity from
// the log itself, side effects from the executors' marker files, deploys from the `sf`
// stand-in org's own record (deploys.jsonl and its job files), Slack posts from the Web API
// stand-in's record. None of them trusts the product's own account of what it did. Only how
// the product dealt with unknown outcomes (TaskOutcomeUnknown and what resolved it) is read
// from its events, since that is the product's account by definition.

export interface Outcomes {
  started: number;
  completed: number;
  /** Ended, but not completed (failed, cancelled, timed out). */
  failed: number;
  /** Accepted, still not ended when the run stopped waiting. */
  stuck: number;
  /** Accepted, and nothing of it in the log. */
  lost: number;
}

export interface PostCounts {
  expected: number;
  missing: number;
  duplicated: number;
}

export interface Figures {
  readonly workflows: Outcomes;
  readonly tasks: Outcomes;
  readonly events: { total: number; streams: number; duplicateIds: number; revisionGaps: number };
  /** Per task or step repository: runs that finished (the side effect) more than once, or never for a completed one. */
  readonly sideEffects: { units: number; duplicated: number; missing: number; interrupted: number };
  /**
   * Per deploy task or step (its Salesforce project), the real deploys the org started for it:
   * exactly 1 is right, 0 is missing, 2+ is a duplicated side effect. `unattributed`: real
   * deploys the org started whose components belong to no deploy task or step of the run.
   */
  readonly deploys: { units: number; orgDeploys: number; once: number; missing: number; missingButCompleted: number; duplicated: number; unattributed: number };
  /**
   * From the product's events, over every task in the log: tasks that went through
   * TaskOutcomeUnknown, and how each TaskOutcomeResolved resolved it (a worker's check of the
   * evidence, the attempt's own worker reporting after all, a person), and tasks still
   * `outcomeUnknown` at the end (stuck: they wait for a person).
   */
  readonly outcomeUnknown: {
    tasks: number;
    times: number;
    byCheck: number;
    byItsWorker: number;
    byPerson: number;
    cancelled: number;
    stillUnknown: number;
    stillUnknownTasks: string[];
  };
  readonly slack?: { replies: PostCounts; closings: PostCounts; otherDuplicates: number };
  /** A few examples of each problem, for the report. */
  readonly examples: string[];
}

export interface AuditInput {
  readonly store: EventStore;
  readonly workspace: ChaosWorkspace;
  readonly workflows: readonly WorkflowItem[];
  readonly tasks: readonly TaskItem[];
  /** The stand-in's chat.postMessage calls, when Slack was part of the run. */
  readonly slackPosts?: readonly RecordedCall[];
}

const MAX_EXAMPLES = 12;
const READ_ATTEMPTS = 6;
const READ_TIMEOUT_MS = 30_000;

export async function audit(input: AuditInput): Promise<Figures> {
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };
  const workflowEndings = new Map<string, Ending>();
  const workflows: Outcomes = { started: input.workflows.length, completed: 0, failed: 0, stuck: 0, lost: 0 };
  for (const wf of input.workflows) {
    const { events } = await input.store.read(streamName('workflow', wf.id));
    const ending = workflowEnding(events);
    workflowEndings.set(wf.id, ending);
    count(
      workflows,
      ending,
      `workflow ${wf.id} (last event ${events.at(-1)?.type ?? 'none'}${ending === 'running' ? await lastTaskOf(input.store, events) : ''})`,
      note,
    );
  }
  const taskEndings = new Map<string, Ending>();
  const tasks: Outcomes = { started: input.tasks.length, completed: 0, failed: 0, stuck: 0, lost: 0 };
  for (const task of input.tasks) {
    const { events } = await input.store.read(streamName('task', task.id));
    const ending = taskEnding(events);
    taskEndings.set(task.id, ending);
    count(tasks, ending, `task ${task.id} (last event ${events.at(-1)?.type ?? 'none'})`, note);
  }

  const sideEffects = { units: 0, duplicated: 0, missing: 0, interrupted: 0 };
  const units = [
    ...input.workflows.map((wf) => ({ owner: `workflow ${wf.id}`, ending: workflowEndings.get(wf.id), repos: wf.repos })),
    ...input.tasks.filter((t) => t.taskType === 'run-tests').map((t) => ({ owner: `task ${t.id}`, ending: taskEndings.get(t.id), repos: [t.repo] })),
  ];
  for (const unit of units) {
    for (const repo of unit.repos) {
      sideEffects.units += 1;
      const runs = await input.workspace.runs(repo);
      if (runs.done > 1) {
        // `run-tests` is declared safe to run again: after a worker died as its run ended, it
        // runs again (at least once, by design). Counted and shown, but not a duplicate side
        // effect; those are what the deploys line counts, from the org's own record.
        sideEffects.duplicated += 1;
        note(`test run finished ${runs.done} times (safe to run again): ${repo} (${unit.owner}, ${runs.started} started)`);
      }
      if (unit.ending === 'completed' && runs.done === 0) {
        sideEffects.missing += 1;
        note(`${unit.owner} completed but ${repo} never finished a run`);
      }
      if (runs.started > runs.done) sideEffects.interrupted += runs.started - runs.done;
    }
  }

  const deploys = { units: 0, orgDeploys: 0, once: 0, missing: 0, missingButCompleted: 0, duplicated: 0, unattributed: 0 };
  const deployUnits = [
    ...input.workflows.flatMap((wf) => wf.deployRepos.map((repo) => ({ owner: `workflow ${wf.id}`, ending: workflowEndings.get(wf.id), repo }))),
    ...input.tasks.filter((t) => t.taskType === 'sf-deploy').map((t) => ({ owner: `task ${t.id}`, ending: taskEndings.get(t.id), repo: t.repo })),
  ];
  const repoOf = new Map(deployUnits.map((u) => [deployComponent(u.repo), u.repo]));
  const orgDeploysOf = new Map<string, { id: string; time: string }[]>();
  for (const deploy of await input.workspace.orgDeploys()) {
    if (deploy.checkOnly) continue;
    deploys.orgDeploys += 1;
    const repo = deploy.components.map((c) => repoOf.get(c)).find((r) => r !== undefined);
    if (repo === undefined) {
      deploys.unattributed += 1;
      note(`the org deployed ${deploy.id} (${deploy.components.join(', ') || 'no readable components'}) for no deploy task or step of this run`);
      continue;
    }
    orgDeploysOf.set(repo, [...(orgDeploysOf.get(repo) ?? []), { id: deploy.id, time: deploy.time }]);
  }
  for (const unit of deployUnits) {
    deploys.units += 1;
    const started = orgDeploysOf.get(unit.repo) ?? [];
    if (started.length === 1) deploys.once += 1;
    else if (started.length === 0) {
      deploys.missing += 1;
      if (unit.ending === 'completed') deploys.missingButCompleted += 1;
      note(`never deployed: ${unit.repo} (${unit.owner}, ${unit.ending ?? 'not in the log'})`);
    } else {
      deploys.duplicated += 1;
      note(`deployed ${started.length} times: ${unit.repo} (${unit.owner}; org jobs ${started.map((d) => `${d.id} at ${d.time}`).join(', ')})`);
    }
  }

  const events = { total: 0, streams: 0, duplicateIds: 0, revisionGaps: 0 };
  const outcomeUnknown: Figures['outcomeUnknown'] = {
    tasks: 0,
    times: 0,
    byCheck: 0,
    byItsWorker: 0,
    byPerson: 0,
    cancelled: 0,
    stillUnknown: 0,
    stillUnknownTasks: [],
  };
  /** Per task stream that went through TaskOutcomeUnknown: the unknown attempt's worker while it waits, else undefined. */
  const unknownOf = new Map<string, { waiting: boolean; workerId: string; reason: string; evidence?: Record<string, string> }>();
  const ids = new Set<string>();
  const nextRevision = new Map<string, bigint>();
  for (const event of await readWholeLog(input.store, note)) {
    events.total += 1;
    if (ids.has(event.id)) {
      events.duplicateIds += 1;
      note(`event ${event.id} (${event.type} in ${event.stream}) stored twice`);
    }
    ids.add(event.id);
    const expected = nextRevision.get(event.stream) ?? 0n;
    if (event.revision !== expected) {
      events.revisionGaps += 1;
      note(`${event.stream}: revision ${event.revision} where ${expected} was due`);
    }
    nextRevision.set(event.stream, event.revision + 1n);
    if (event.type === 'TaskOutcomeUnknown') {
      const data = event.data as { workerId: string; reason: string; evidence?: Record<string, string> };
      outcomeUnknown.times += 1;
      unknownOf.set(event.stream, { waiting: true, workerId: data.workerId, reason: data.reason, ...(data.evidence ? { evidence: data.evidence } : {}) });
    } else if (event.type === 'TaskOutcomeResolved') {
      const data = event.data as { resolvedBy: string; via: string };
      const unknown = unknownOf.get(event.stream);
      if (data.via === 'person') outcomeUnknown.byPerson += 1;
      else if (unknown && data.resolvedBy === `worker:${unknown.workerId}`) outcomeUnknown.byItsWorker += 1;
      else outcomeUnknown.byCheck += 1;
      if (unknown) unknown.waiting = false;
    } else if (event.type === 'TaskCancelled') {
      const unknown = unknownOf.get(event.stream);
      if (unknown?.waiting) {
        outcomeUnknown.cancelled += 1;
        unknown.waiting = false;
      }
    }
  }
  events.streams = nextRevision.size;
  outcomeUnknown.tasks = unknownOf.size;
  for (const [stream, unknown] of unknownOf) {
    if (!unknown.waiting) continue;
    const taskId = parseStreamName(stream).id;
    outcomeUnknown.stillUnknown += 1;
    outcomeUnknown.stillUnknownTasks.push(taskId);
    // Always named, past the cap on examples: each waits for a person.
    examples.push(
      `task ${taskId} still outcomeUnknown (stuck, waits for a person): worker ${unknown.workerId}, ${unknown.reason}; evidence ${JSON.stringify(unknown.evidence ?? {})}`,
    );
  }

  let slack: Figures['slack'];
  if (input.slackPosts) {
    const posted = new Map<string, number>();
    for (const call of input.slackPosts) {
      if (call.response.ok !== true) continue;
      const key = markerOf(call.args.metadata);
      if (key) posted.set(key, (posted.get(key) ?? 0) + 1);
    }
    const expect = (keys: string[], what: string): PostCounts => {
      const counts: PostCounts = { expected: keys.length, missing: 0, duplicated: 0 };
      for (const key of keys) {
        const n = posted.get(key) ?? 0;
        if (n === 0) {
          counts.missing += 1;
          note(`${what} never posted: ${key}`);
        }
        if (n > 1) {
          counts.duplicated += 1;
          note(`${what} posted ${n} times: ${key}`);
        }
      }
      return counts;
    };
    const ended = (e: Ending | undefined) => e === 'completed' || e === 'failed';
    const replyKeys = input.tasks.filter((t) => t.slack && ended(taskEndings.get(t.id))).map((t) => `result:${t.id}`);
    const closingKeys = input.workflows.filter((wf) => wf.conversationId && ended(workflowEndings.get(wf.id))).map((wf) => `notice:workflow-end-${wf.id}`);
    const required = new Set([...replyKeys, ...closingKeys]);
    const otherDuplicates = [...posted].filter(([key, n]) => n > 1 && !required.has(key));
    otherDuplicates.forEach(([key, n]) => note(`message posted ${n} times: ${key}`));
    slack = { replies: expect(replyKeys, 'task reply'), closings: expect(closingKeys, 'workflow closing message'), otherDuplicates: otherDuplicates.length };
    // What the product recorded about a closing message it never posted: its Delivery and its workflow's status message.
    for (const key of closingKeys.filter((k) => !posted.has(k)).slice(0, 3)) {
      const deliveryId = key.slice('notice:'.length);
      const workflowId = deliveryId.slice('workflow-end-'.length);
      const [closing, status] = await Promise.all([
        input.store.read(streamName('delivery', deliveryId)),
        input.store.read(streamName('delivery', `workflow-${workflowId}`)),
      ]);
      note(`  ${key}: its Delivery [${closing.events.map((e) => e.type).join(', ')}], the status message's [${status.events.map((e) => e.type).join(', ')}]`);
    }
  }
  return { workflows, tasks, events, sideEffects, deploys, outcomeUnknown, ...(slack ? { slack } : {}), examples };
}

/**
 * The whole log, read again when a read fails or does not answer: just after a leader change
 * or a broker restart the first read can time out, or (seen on a 3-node cluster whose stream
 * leader was killed) never answer at all.
 */
async function readWholeLog(store: EventStore, note: (text: string) => void): Promise<readonly RecordedEvent[]> {
  let last = '';
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
    });
    try {
      return await Promise.race([store.readAll(), gaveUp]);
    } catch (error) {
      last = (error as Error).message;
      note(`reading the whole event log, attempt ${attempt}: ${last}`);
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`the event log could not be read in ${READ_ATTEMPTS} attempts: ${last}`);
}

/** For a workflow that never ended: where the task of its latest step stands. */
async function lastTaskOf(store: EventStore, events: readonly RecordedEvent[]): Promise<string> {
  const taskId = events
    .map((e) => workflowEventIn(e)?.event)
    .flatMap((e) => (e && 'taskId' in e.data && typeof e.data.taskId === 'string' ? [e.data.taskId] : []))
    .at(-1);
  if (!taskId) return '';
  const task = await store.read(streamName('task', taskId));
  return `; its task ${taskId}: ${task.events.map((e) => e.type).join(', ') || 'not in the log'}`;
}

function count(outcomes: Outcomes, ending: Ending, what: string, note: (text: string) => void): void {
  if (ending === 'completed') outcomes.completed += 1;
  else if (ending === 'failed') {
    outcomes.failed += 1;
    note(`${what} ended without completing`);
  } else if (ending === 'running') {
    outcomes.stuck += 1;
    note(`${what} never ended`);
  } else {
    outcomes.lost += 1;
    note(`${what} was accepted but is not in the log`);
  }
}

/** `<kind>:<deliveryId>` of a post's delivery marker (message metadata), if it carries one. */
function markerOf(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null || !('event_payload' in metadata)) return undefined;
  const payload = metadata.event_payload;
  if (typeof payload !== 'object' || payload === null || !('kind' in payload) || !('deliveryId' in payload)) return undefined;
  return `${String(payload.kind)}:${String(payload.deliveryId)}`;
}

/** Every figure that must be 0 for a run to pass. */
export function problems(f: Figures): Record<string, number> {
  return {
    'workflows lost': f.workflows.lost,
    'workflows stuck': f.workflows.stuck,
    'workflows failed': f.workflows.failed,
    'tasks lost': f.tasks.lost,
    'tasks stuck': f.tasks.stuck,
    'tasks failed': f.tasks.failed,
    'duplicate event ids': f.events.duplicateIds,
    'revision gaps': f.events.revisionGaps,
    'missing test runs': f.sideEffects.missing,
    'duplicate deploys': f.deploys.duplicated,
    'missing deploys': f.deploys.missing,
    'deploys of no task': f.deploys.unattributed,
    'outcomes still unknown': f.outcomeUnknown.stillUnknown,
    ...(f.slack
      ? {
          'missing task replies': f.slack.replies.missing,
          'duplicate task replies': f.slack.replies.duplicated,
          'missing closing messages': f.slack.closings.missing,
          'duplicate closing messages': f.slack.closings.duplicated,
          'other duplicate posts': f.slack.otherDuplicates,
        }
      : {}),
  };
}

export function formatFigures(f: Figures): string {
  const o = (name: string, x: Outcomes) =>
    `${name.padEnd(10)} started ${x.started}  completed ${x.completed}  failed ${x.failed}  stuck ${x.stuck}  lost ${x.lost}`;
  const lines = [
    o('workflows', f.workflows),
    o('tasks', f.tasks),
    `events     ${f.events.total} in ${f.events.streams} streams  duplicate ids ${f.events.duplicateIds}  revision gaps ${f.events.revisionGaps}`,
    `test runs (marker files; safe to run again) ${f.sideEffects.units} task/step repositories  run again after a fault ${f.sideEffects.duplicated}  missing ${f.sideEffects.missing}  interrupted runs ${f.sideEffects.interrupted}`,
    `deploys (the org's record) ${f.deploys.units} deploy tasks/steps, ${f.deploys.orgDeploys} deploys started  exactly once ${f.deploys.once}  duplicated ${f.deploys.duplicated}  missing ${f.deploys.missing} (of completed ones ${f.deploys.missingButCompleted})  of no task ${f.deploys.unattributed}`,
    `outcome unknown (product events) ${f.outcomeUnknown.tasks} tasks went through TaskOutcomeUnknown (${f.outcomeUnknown.times} times)  resolved by a check ${f.outcomeUnknown.byCheck}  by their worker ${f.outcomeUnknown.byItsWorker}  by a person ${f.outcomeUnknown.byPerson}  cancelled ${f.outcomeUnknown.cancelled}  still outcomeUnknown ${f.outcomeUnknown.stillUnknown}${f.outcomeUnknown.stillUnknownTasks.length > 0 ? ` (${f.outcomeUnknown.stillUnknownTasks.slice(0, 10).join(', ')}${f.outcomeUnknown.stillUnknownTasks.length > 10 ? ', …' : ''})` : ''}`,
  ];
  if (f.slack) {
    const p = (x: PostCounts) => `expected ${x.expected}  missing ${x.missing}  duplicated ${x.duplicated}`;
    lines.push(
      `slack      task replies: ${p(f.slack.replies)};  workflow closing messages: ${p(f.slack.closings)};  other messages posted twice: ${f.slack.otherDuplicates}`,
    );
  }
  if (f.examples.length > 0) lines.push('examples:', ...f.examples.map((e) => `  - ${e}`));
  return lines.join('\n');
}
