import { match } from 'ts-pattern';
import { labelFromKey } from './format.ts';
import type { ReplyDocument, ReplyField, ReplyTone } from './reply-document.ts';

// The live progress message: one per task, updated in place. While the task can still be
// stopped it carries a Cancel button; the final states carry none, so the last update (which
// always lands) also takes the button away. An unknown outcome (a side-effecting attempt that
// stopped without one) is neither running nor final: the message says it waits for a decision,
// which is taken on its own message in the thread.

export type ProgressStatus = 'queued' | 'running' | 'retrying' | 'outcomeUnknown' | 'completed' | 'failed' | 'cancelled';

/** How a status reads where it is shown in words. */
const STATUS_WORDS: Readonly<Record<ProgressStatus, string>> = {
  queued: 'queued',
  running: 'running',
  retrying: 'retrying',
  outcomeUnknown: 'outcome unknown, waiting for a decision',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export interface ProgressReplyInput {
  readonly taskId: string;
  readonly taskType: string;
  readonly status: ProgressStatus;
  /** 0..100, overall across stages. */
  readonly percent: number;
  readonly stage?: string;
  readonly details?: string;
  /** What the executor reports: files touched, tokens, messages. */
  readonly counters?: Readonly<Record<string, number>>;
  readonly attempt?: number;
  /** Already worded, e.g. from `describeRemaining`: "about 2 min". */
  readonly etaText?: string;
}

export const CANCEL_ACTION_ID = 'cancel_task';
const FILLED = '\u2588'; // █
const EMPTY = '\u2591'; // ░

/** `████████░░ 80%`: rounded to whole cells and whole percent, clamped to 0..100. */
export function progressBar(percent: number, width = 10): string {
  const cells = Number.isFinite(width) ? Math.max(1, Math.round(width)) : 10;
  const clamped = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
  const filled = Math.round((clamped * cells) / 100);
  return `${FILLED.repeat(filled)}${EMPTY.repeat(cells - filled)} ${Math.round(clamped)}%`;
}

export const isActive = (status: ProgressStatus): boolean => status === 'queued' || status === 'running' || status === 'retrying';

const toneOf = (status: ProgressStatus): ReplyTone =>
  match(status)
    .returnType<ReplyTone>()
    .with('queued', () => 'info')
    .with('running', () => 'progress')
    .with('retrying', () => 'warning')
    .with('outcomeUnknown', () => 'warning')
    .with('completed', () => 'success')
    .with('failed', () => 'failure')
    .with('cancelled', () => 'warning')
    .exhaustive();

export function progressReply(input: ProgressReplyInput): ReplyDocument {
  const active = isActive(input.status);
  const stage = input.stage?.trim();
  // A completed task is done whatever the last reported percent was.
  const percent = input.status === 'completed' ? 100 : input.percent;
  const eta = active && input.status !== 'queued' && input.etaText ? ` · ETA ${input.etaText}` : '';
  const fields: ReplyField[] = Object.entries(input.counters ?? {})
    .filter(([, value]) => Number.isFinite(value))
    .map(([key, value]) => ({ label: labelFromKey(key), value: String(value) }));
  const attempt = input.attempt !== undefined && input.attempt > 1 ? `attempt ${input.attempt}` : undefined;
  const where = !active && stage && input.status !== 'completed' ? `at stage ${stage}` : undefined;
  const footer = [STATUS_WORDS[input.status], attempt, where, `task ${input.taskId}`].filter(Boolean).join(' · ');
  return {
    title: active && stage ? `${input.taskType}: ${stage}` : `${input.taskType}: ${STATUS_WORDS[input.status]}`,
    tone: toneOf(input.status),
    summary: progressBar(percent) + eta,
    ...(fields.length > 0 ? { fields } : {}),
    ...(input.details?.trim() ? { sections: [{ lines: [input.details] }] } : {}),
    footer: footer.charAt(0).toUpperCase() + footer.slice(1),
    ...(active ? { actions: [{ actionId: CANCEL_ACTION_ID, label: 'Cancel', value: input.taskId, style: 'danger' as const }] } : {}),
  };
}
