import { match } from 'ts-pattern';
import { descriptorOf, type OutcomeCheckWording, type TaskTypeDescriptor } from '../task-types/descriptor.ts';
import { excerpt } from './format.ts';
import type { ReplyDocument, ReplyField, ReplyTone } from './reply-document.ts';

// At most once for side effects: when a task that changes something outside (a deploy, code
// edits) stopped without a known outcome, the product does not run it again by itself. Its
// thread gets one message saying what ran, which attempt, why it was not re-run and what was
// recorded, with Re-run / Mark as done / Fail; once someone (or a check of the evidence)
// decides, the same message is redrawn with the decision and without buttons.

export const RERUN_OUTCOME_ACTION = 'rerun_unknown_outcome';
export const COMPLETE_OUTCOME_ACTION = 'complete_unknown_outcome';
export const FAIL_OUTCOME_ACTION = 'fail_unknown_outcome';
export const OUTCOME_ACTIONS = [RERUN_OUTCOME_ACTION, COMPLETE_OUTCOME_ACTION, FAIL_OUTCOME_ACTION] as const;

export type OutcomeResolution = 'rerun' | 'completed' | 'failed';

/** Which resolution a button (or a typed word: RERUN, DONE, FAIL) asks for. */
export const RESOLUTION_OF_ACTION: Readonly<Record<(typeof OUTCOME_ACTIONS)[number], OutcomeResolution>> = {
  [RERUN_OUTCOME_ACTION]: 'rerun',
  [COMPLETE_OUTCOME_ACTION]: 'completed',
  [FAIL_OUTCOME_ACTION]: 'failed',
};

/** The thread message's Delivery: one per task and attempt, so a later unknown outcome gets its own. */
export const outcomeDeliveryId = (taskId: string, attempt: number): string => `outcome-${taskId}-${attempt}`;

/** What the buttons carry: the task and the attempt whose outcome they decide. */
export const outcomeActionValue = (taskId: string, attempt: number): string => `${taskId} ${attempt}`;

export function parseOutcomeActionValue(value: string): { taskId: string; attempt: number } | undefined {
  const [taskId, attempt, ...rest] = value.trim().split(' ');
  const n = Number(attempt);
  return taskId && Number.isInteger(n) && n >= 1 && rest.length === 0 ? { taskId, attempt: n } : undefined;
}

export interface OutcomeDecision {
  readonly resolution: OutcomeResolution;
  /** A person's chat id, or what checked (a worker, `sf`). */
  readonly resolvedBy: string;
  readonly via: 'person' | 'check';
  readonly reason?: string;
}

export interface UnknownOutcomeInput {
  readonly taskId: string;
  readonly taskType: string;
  readonly attempt: number;
  /** The worker that stopped answering (or was stopped) while the attempt ran. */
  readonly workerId: string;
  /** As the task recorded it, e.g. "worker went silent". */
  readonly reason: string;
  /** What the attempt recorded about what it started outside, e.g. `{ deployJobId: "0Af…" }`. */
  readonly evidence?: Readonly<Record<string, string>>;
  readonly repository?: string;
  /** The task's mode where its parameters name one (`edit`, `deploy`). */
  readonly mode?: string;
  readonly decision?: OutcomeDecision;
  /** Ended without a decision (cancelled while it waited): what to say instead. */
  readonly endedUndecided?: string;
}

const toneOf = (input: UnknownOutcomeInput): ReplyTone =>
  input.decision === undefined
    ? input.endedUndecided === undefined
      ? 'warning'
      : 'failure'
    : match(input.decision.resolution)
        .returnType<ReplyTone>()
        .with('completed', () => 'success')
        .with('failed', () => 'failure')
        .with('rerun', () => 'info')
        .exhaustive();

const what = (input: UnknownOutcomeInput): string => `${input.taskType}${input.mode ? ` (${input.mode})` : ''}`;

/** Why the product stopped here instead of running it again. */
const why = (input: UnknownOutcomeInput): string =>
  `Attempt ${input.attempt} of ${what(input)} stopped without a known outcome: ${input.reason}${input.reason.includes(input.workerId) ? '' : ` (worker ${input.workerId})`}. ` +
  `It changes something outside the product, so it was not run again by itself: it may already have done its work.`;

/** "Marked as done by" and the person; undefined for a check, whose wording names no person. */
const bylineText = (resolution: OutcomeResolution): string =>
  match(resolution)
    .with('completed', () => 'Marked as done by')
    .with('rerun', () => 'Re-run by')
    .with('failed', () => 'Failed by')
    .exhaustive();

/** The registered task types' wording for checks of their evidence (adapters/executors/registry.ts). */
export type OutcomeCheckWordings = readonly Pick<TaskTypeDescriptor, 'taskType' | 'outcomeCheck'>[];

/** What a check of the evidence found, e.g. "Checked with sf: the deploy succeeded." */
function checkedText(decision: OutcomeDecision, wording: OutcomeCheckWording | undefined): string {
  const tool = wording?.tool ?? decision.resolvedBy;
  const subject = wording?.subject ?? 'it';
  const found = match(decision.resolution)
    .with('completed', () => `${subject} succeeded`)
    .with('failed', () => `${subject} failed`)
    .with('rerun', () => `${subject} did not happen, so it runs again`)
    .exhaustive();
  return `Checked with ${tool}: ${found}.`;
}

const decidedSummary = (input: UnknownOutcomeInput, decision: OutcomeDecision, wordings: OutcomeCheckWordings): string =>
  [
    `Attempt ${input.attempt} of ${what(input)} stopped without a known outcome (${input.reason}).`,
    ...(decision.via === 'check' ? [checkedText(decision, descriptorOf(wordings, input.taskType)?.outcomeCheck)] : []),
    ...(decision.resolution === 'rerun' ? [`Attempt ${input.attempt + 1} is queued.`] : []),
    ...(decision.reason ? [`Reason: ${decision.reason}`] : []),
  ].join(' ');

export function unknownOutcomeReply(input: UnknownOutcomeInput, wordings: OutcomeCheckWordings): ReplyDocument {
  const { decision } = input;
  const open = decision === undefined && input.endedUndecided === undefined;
  const fields: ReplyField[] = [
    { label: 'Task', value: what(input) },
    { label: 'Attempt', value: String(input.attempt) },
    ...(input.repository ? [{ label: 'Repository', value: input.repository }] : []),
  ];
  const evidence = Object.entries(input.evidence ?? {});
  const value = outcomeActionValue(input.taskId, input.attempt);
  return {
    title: `${open ? 'Outcome unknown' : 'Outcome decided'}: ${excerpt(input.taskType, 100)} (attempt ${input.attempt})`,
    tone: toneOf(input),
    summary: decision
      ? decidedSummary(input, decision, wordings)
      : input.endedUndecided
        ? `${why(input)} Not decided: ${input.endedUndecided}.`
        : `${why(input)} Check what happened, then decide: Re-run, Mark as done, or Fail.`,
    ...(decision?.via === 'person' ? { byline: { text: bylineText(decision.resolution), user: decision.resolvedBy } } : {}),
    fields,
    sections: [
      evidence.length > 0
        ? { heading: 'Evidence recorded', lines: evidence.map(([key, v]) => `${key}: ${v}`) }
        : { heading: 'Evidence recorded', lines: ['none: the attempt recorded nothing before it stopped'] },
    ],
    ...(open
      ? {
          actions: [
            { actionId: RERUN_OUTCOME_ACTION, label: 'Re-run', value, style: 'primary' as const },
            { actionId: COMPLETE_OUTCOME_ACTION, label: 'Mark as done', value },
            { actionId: FAIL_OUTCOME_ACTION, label: 'Fail', value, style: 'danger' as const },
          ],
        }
      : {}),
    footer: `task ${input.taskId} · ${open ? 'waiting for a decision' : 'decided'}`,
  };
}

/** The answer to a click or a typed word on a message already decided. */
export const alreadyDecidedAnswer = (decision: OutcomeDecision | undefined): string =>
  decision === undefined
    ? 'This was already decided.'
    : `This was already decided by ${decision.resolvedBy}: ${match(decision.resolution)
        .with('completed', () => 'marked as done')
        .with('rerun', () => 'run again')
        .with('failed', () => 'failed')
        .exhaustive()}.`;
