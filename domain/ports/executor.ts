import type { z } from 'zod';
import type { SideEffectClass } from '../workflow/gate-policy.ts';

// What a worker actor needs from an executor. One executor file per task type, registered
// with one line; parameters are validated before anything runs (chat and model output only
// ever select a registered task type, never a command line).

export interface Stage {
  readonly name: string;
  /** Relative share of the whole run; percent complete derives from these. */
  readonly weight: number;
}

export interface ProgressUpdate {
  readonly stage: string;
  /** 0..1 within the stage. */
  readonly fraction: number;
  readonly details?: string;
  /** Executor-specific counters: files scanned, tests run, tokens used… */
  readonly counters?: Readonly<Record<string, number>>;
}

export interface ExecutionContext {
  readonly taskId: string;
  readonly attempt: number;
  /** Every path the executor touches must resolve inside this folder. */
  readonly workspaceRoot: string;
  /** Aborted when the task is cancelled or times out; executors stop their whole process group. */
  readonly signal: AbortSignal;
  /**
   * Where the outside programs an executor runs live, from configuration (`sf` ← SF_BIN).
   * A program not named here is looked up by its own name on the PATH.
   */
  readonly programs?: Readonly<Record<string, string>>;
  progress(update: ProgressUpdate): void;
  /**
   * Records what the attempt started outside (e.g. `{ deployJobId }`) on the task before the
   * executor waits on it, so whoever finds the attempt's worker gone can check what happened.
   * Resolves once recorded; the executor must not go on before. Absent where nothing records.
   */
  recordEvidence?(evidence: Readonly<Record<string, string>>): Promise<void>;
}

/** What an executor found out about an earlier attempt from its evidence. */
export type OutcomeCheck<Result = unknown> =
  | { readonly outcome: 'completed'; readonly result: Result }
  | { readonly outcome: 'failed'; readonly error: { readonly code: string; readonly message: string } }
  | { readonly outcome: 'unknown'; readonly reason: string };

export interface Executor<Params = unknown, Result = unknown> {
  readonly taskType: string;
  readonly pool: string;
  readonly parameters: z.ZodType<Params>;
  readonly stages: readonly Stage[];
  /** True when running it changes something outside (code, deployments); such steps need approval. */
  readonly sideEffects: boolean;
  /**
   * Whether running these parameters again after an attempt whose outcome is unknown is
   * harmless. False (a production deploy, code edits): the task is never re-run on its own.
   * Undeclared counts as true, as it always was.
   */
  rerunSafe?(params: Params): boolean;
  /**
   * What running these parameters does outside, for the authorization policy (a validation-only
   * deploy reads, a real one deploys). Undeclared: `sideEffects ? 'code-change' : 'read-only'`.
   */
  sideEffectClass?(params: Params): SideEffectClass;
  /** Finds out how an attempt ended from the evidence it recorded; `unknown` leaves it for people. */
  checkOutcome?(params: Params, evidence: Readonly<Record<string, string>>, context: ExecutionContext): Promise<OutcomeCheck>;
  execute(params: Params, context: ExecutionContext): Promise<Result>;
}

/** A failure the executor understood: `retryable` says whether another attempt could succeed. */
export class ExecutionFailed extends Error {
  override readonly name = 'ExecutionFailed';
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Overall percent (0..100) from weighted stages, the current stage and the fraction done in it. */
export function overallPercent(stages: readonly Stage[], stage: string, fraction: number): number {
  const total = stages.reduce((sum, s) => sum + s.weight, 0);
  if (total <= 0) return 0;
  const index = stages.findIndex((s) => s.name === stage);
  if (index < 0) return 0;
  const done = stages.slice(0, index).reduce((sum, s) => sum + s.weight, 0);
  const clamped = Math.min(1, Math.max(0, fraction));
  return Math.round(((done + stages[index]!.weight * clamped) / total) * 100);
}
