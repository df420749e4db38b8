import { z } from 'zod';
import { jsonParamsSchema, type StepParams } from './step-fields.ts';

// The one form the engine walks. Both definition forms compile to it (compile.ts):
//
// - A machine is a start node and nodes joined by transitions. Task and approval nodes wait for
//   an outcome; choice, parallel and end nodes are passed through while the decider advances.
// - Leaving a node tries its transitions in order and takes the first whose condition holds (or
//   that has none); `skips` names the steps a taken transition leaves behind (the branch of a
//   conditional not taken), so they can be recorded as skipped.
// - A parallel node holds one machine per branch, with its own end. It is left once no step
//   inside it is still active, that is, when every branch has reached its end. This nesting is
//   the only way to get concurrency, so the state-machine form (no parallel) has one token.
// - Node ids are unique across the whole workflow, nested machines included. Task and approval
//   ids are the step ids conditions read (`steps.<id>`); ids the compiler makes up start with "#".
//
// A state machine over this shape was chosen as the common form because it holds loops (which
// the state-machine form allows and a tree cannot) while a tree compiles into it without loss.

export interface Transition {
  readonly to: string;
  readonly when?: string | undefined;
  readonly skips?: readonly string[] | undefined;
}

export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly nonRetryable: readonly string[];
}

export interface TaskNode {
  readonly kind: 'task';
  readonly id: string;
  readonly title?: string | undefined;
  readonly taskType: string;
  readonly params: StepParams;
  readonly pool?: string | undefined;
  readonly retry: RetryPolicy;
  readonly timeoutMs?: number | undefined;
  readonly sideEffects: boolean;
  readonly next: readonly Transition[];
}

export interface ApprovalNode {
  readonly kind: 'approval';
  readonly id: string;
  readonly title?: string | undefined;
  /** Empty: anyone may decide. */
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly requesterMayApprove: boolean;
  readonly timeoutMs: number;
  readonly reminderBeforeMs?: number | undefined;
  readonly next: readonly Transition[];
}

export interface ChoiceNode {
  readonly kind: 'choice';
  readonly id: string;
  readonly next: readonly Transition[];
}

export interface ParallelNode {
  readonly kind: 'parallel';
  readonly id: string;
  readonly branches: readonly Machine[];
  readonly next: readonly Transition[];
}

export interface EndNode {
  readonly kind: 'end';
  readonly id: string;
  readonly outcome: 'completed' | 'failed';
  readonly reason?: string | undefined;
}

export type WorkflowNode = TaskNode | ApprovalNode | ChoiceNode | ParallelNode | EndNode;

export interface Machine {
  readonly start: string;
  readonly nodes: readonly WorkflowNode[];
}

export interface CompiledWorkflow {
  readonly name: string;
  readonly description?: string | undefined;
  readonly form: 'stepTree' | 'stateMachine';
  readonly machine: Machine;
}

// ── schema: a compiled workflow travels in StartWorkflow and WorkflowStarted ──────────
const nodeId = z.string().min(1).max(200);
const transitionSchema = z.object({ to: nodeId, when: z.string().optional(), skips: z.array(z.string()).optional() });
const next = z.array(transitionSchema);

const retryPolicySchema = z.object({ attempts: z.int().min(1), backoffMs: z.int().min(0), maxBackoffMs: z.int().min(0), nonRetryable: z.array(z.string()) });

export const machineSchema: z.ZodType<Machine> = z.lazy(() =>
  z.object({
    start: nodeId,
    nodes: z.array(
      z.discriminatedUnion('kind', [
        z.object({
          kind: z.literal('task'),
          id: nodeId,
          title: z.string().optional(),
          taskType: z.string().min(1),
          params: jsonParamsSchema,
          pool: z.string().optional(),
          retry: retryPolicySchema,
          timeoutMs: z.int().positive().optional(),
          sideEffects: z.boolean(),
          next,
        }),
        z.object({
          kind: z.literal('approval'),
          id: nodeId,
          title: z.string().optional(),
          approvers: z.array(z.string()),
          quorum: z.int().min(1),
          requesterMayApprove: z.boolean(),
          timeoutMs: z.int().positive(),
          reminderBeforeMs: z.int().positive().optional(),
          next,
        }),
        z.object({ kind: z.literal('choice'), id: nodeId, next }),
        z.object({ kind: z.literal('parallel'), id: nodeId, branches: z.array(machineSchema).min(1), next }),
        z.object({ kind: z.literal('end'), id: nodeId, outcome: z.enum(['completed', 'failed']), reason: z.string().optional() }),
      ]),
    ),
  }),
);

export const compiledWorkflowSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().optional(),
  form: z.enum(['stepTree', 'stateMachine']),
  machine: machineSchema,
});
