import type { ReplyDocument } from '../replies/reply-document.ts';

// Everything the product knows about a task type besides how to run it: which pool runs it,
// whether it changes something outside, how people ask for it in chat, how its result reads,
// how long it usually takes and which setting caps what one run may cost. Each executor file
// carries its type's descriptor next to its executor, and adapters/executors/registry.ts lists
// them once; the pure parts of the product (chat, replies, estimates) are handed that list, so
// a new task type is one file and one registration line.

/** How a chat request asks for the task without the planner; the words after the verb name the repository. */
export interface ChatPhrasing {
  /**
   * Regular-expression sources (case-insensitive) of the verb phrases that ask for it, matched
   * from the start of the request. The first match across all task types wins.
   */
  readonly phrases: readonly string[];
  /** Shown in the "what I can do" answer: `lint my-service`. */
  readonly example: string;
  /** One line for the reply: `run the tests in acme`. */
  readonly summary: (repository: string) => string;
}

/** A result as a reply, or undefined when it does not have the shape this type's results have. */
export type ResultView = (result: unknown) => ReplyDocument | undefined;

/** What a check of an attempt's evidence is called in the thread: `Checked with sf: the deploy succeeded.` */
export interface OutcomeCheckWording {
  readonly tool: string;
  readonly subject: string;
}

export interface TaskTypeDescriptor {
  readonly taskType: string;
  /** The worker pool (`workers:<pool>` role) that runs it. */
  readonly pool: string;
  /** True when running it changes something outside (code, deployments); such steps need approval. */
  readonly sideEffects: boolean;
  /** What it does, in a few words a person reads: "run a repository's linter". */
  readonly description: string;
  /** A rough duration of one run, for the previews of plans made without a model. */
  readonly estimatedMs: number;
  /** Absent: only a plan or a workflow runs it. */
  readonly chat?: ChatPhrasing;
  /** Absent: the result is shown as returned (its JSON). */
  readonly reply?: ResultView;
  /**
   * The cost setting (a field of the configuration's `cost` section) holding the most one run
   * may spend on a model. Absent: runs spend no model money.
   */
  readonly costCeilingSetting?: string;
  /** Absent: a check is named by whoever checked. */
  readonly outcomeCheck?: OutcomeCheckWording;
}

/** The descriptor of a task type in a registry, or undefined for one not registered. */
export const descriptorOf = <T extends Pick<TaskTypeDescriptor, 'taskType'>>(taskTypes: readonly T[], taskType: string): T | undefined =>
  taskTypes.find((t) => t.taskType === taskType);
