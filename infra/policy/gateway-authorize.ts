import type { AuthorizeOutsideCommand } from '../../actors/command-gateway.ts';
import { sideEffectClassFor } from '../../adapters/executors/registry.ts';
import { authorizeCommand, workflowSteps, type Policy } from '../../domain/policy/index.ts';
import { compiledWorkflowSchema } from '../../domain/workflow/index.ts';
import { classifyTask } from './classify-task.ts';

// The command gateway's `authorize` hook from the policy: what an outside producer's command
// would do is worked out here (the steps of a workflow definition, the class of a task), so the
// policy judges the work, not a label. The hook cannot read state, so approvals count as deploy
// gates and cancels are left to admins (the policy must name the API identity either way).

export function policyAuthorizer(policy: Policy): AuthorizeOutsideCommand {
  return ({ actor, category, type, data }) => {
    const definition = type === 'StartWorkflow' ? compiledWorkflowSchema.safeParse(data['definition']) : undefined;
    const steps = definition?.success ? workflowSteps(definition.data, classifyTask) : undefined;
    const sideEffect = type === 'QueueTask' && typeof data['taskType'] === 'string' ? sideEffectClassFor(data['taskType'], data['payload']) : undefined;
    const decided = authorizeCommand(policy, { actor, category, type, data, ...(steps ? { steps } : {}), ...(sideEffect ? { sideEffect } : {}) });
    return decided._tag === 'Right' ? { allowed: true, rule: decided.right.rule } : { allowed: false, code: decided.left.code, message: decided.left.message };
  };
}
