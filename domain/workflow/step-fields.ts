import { z } from 'zod';

// Field shapes a task step or an approval gate has, in either definition form and in the compiled
// form. Kept as plain shapes (not refined objects) so each form can extend them.

/**
 * Letters, digits and single "-" between them. No "_": task ids are `${workflowId}_${stepId}_${attempt}`
 * and must split back into their parts; no ".": conditions read `steps.<id>.output`.
 */
export const STEP_ID = /^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*$/;
export const stepIdSchema = z
  .string()
  .max(64)
  .regex(STEP_ID, { error: 'must be letters and digits, joined by single "-", starting with a letter (at most 64)' });

export const taskTypeSchema = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/, { error: 'must be a lower-case task type name such as run-tests' });

export const jsonParamsSchema = z.record(z.string(), z.json());
export type StepParams = z.infer<typeof jsonParamsSchema>;

export const DEFAULT_APPROVAL_TIMEOUT_MS = 600_000;
const DAY_MS = 86_400_000;

export const retryPolicySchema = z
  .object({
    /** Runs of the step per visit, the first included. */
    attempts: z.int().min(1).max(10),
    /** Delay before the second attempt; it doubles per attempt up to `maxBackoffMs`. */
    backoffMs: z.int().min(0).max(3_600_000),
    maxBackoffMs: z.int().min(0).max(DAY_MS),
    /** Error codes that fail the step at once, whatever attempts remain. */
    nonRetryable: z.array(z.string().min(1).max(200)).max(100).optional(),
  })
  .refine((p) => p.maxBackoffMs >= p.backoffMs, { error: 'must be at least backoffMs', path: ['maxBackoffMs'] });
export type RetryPolicyInput = z.infer<typeof retryPolicySchema>;

export const taskStepShape = {
  id: stepIdSchema,
  title: z.string().min(1).max(200).optional(),
  taskType: taskTypeSchema,
  params: jsonParamsSchema.optional(),
  pool: z.string().min(1).max(100).optional(),
  retry: retryPolicySchema.optional(),
  timeoutMs: z.int().positive().max(DAY_MS).optional(),
  /** Changes something outside (code, deployments): a dry run replaces its executor with a recorder. */
  sideEffects: z.boolean().optional(),
};

export const approvalGateShape = {
  id: stepIdSchema,
  title: z.string().min(1).max(200).optional(),
  /** Who may decide; none named means anyone allowed to approve in this workspace. */
  approvers: z.array(z.string().min(1).max(200)).max(50).optional(),
  /** Distinct approvers needed; 1 unless set. */
  quorum: z.int().min(1).max(50).optional(),
  /** When false, the workflow's requester cannot be the one approval that decides the gate. */
  requesterMayApprove: z.boolean().optional(),
  timeoutMs: z
    .int()
    .positive()
    .max(7 * DAY_MS)
    .optional(),
  /** Approvers are reminded this long before the gate times out. */
  reminderBeforeMs: z.int().positive().optional(),
};

interface GateFields {
  readonly approvers?: readonly string[] | undefined;
  readonly quorum?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly reminderBeforeMs?: number | undefined;
}

/** Rules across a gate's fields, for `.superRefine` on any schema built from `approvalGateShape`. */
export function checkGate(gate: GateFields, context: z.RefinementCtx): void {
  const approvers = gate.approvers ?? [];
  if (new Set(approvers).size !== approvers.length) context.addIssue({ code: 'custom', path: ['approvers'], message: 'names an approver twice' });
  if (approvers.length > 0 && (gate.quorum ?? 1) > approvers.length) {
    context.addIssue({ code: 'custom', path: ['quorum'], message: `needs ${gate.quorum} approvers but only ${approvers.length} are named` });
  }
  const timeoutMs = gate.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  if (gate.reminderBeforeMs !== undefined && gate.reminderBeforeMs >= timeoutMs) {
    context.addIssue({ code: 'custom', path: ['reminderBeforeMs'], message: `must be shorter than the gate's timeout (${timeoutMs} ms)` });
  }
}
