import { z } from 'zod';
import type { CommandAdmission } from '../../actors/runtime/aggregate-definition.ts';
import { compiledWorkflowSchema, type CompiledWorkflow, type Machine, type TaskNode } from '../../domain/workflow/compiled.ts';
import type { DoorFacts } from './door-facts.ts';
import { checkTask, type DoorRefusal } from './task-checks.ts';

// The workflow aggregate's door: a StartWorkflow is let in only if every task step of its
// compiled definition would pass the task door (task-checks.ts), so a step that could never
// run (an unknown type, a path out of the workspace) is refused when the workflow is
// requested, not when the step is reached. Parameters that read an earlier step's output are
// only known then; literal values are checked now.

function taskNodes(machine: Machine): TaskNode[] {
  return machine.nodes.flatMap((node) => (node.kind === 'task' ? [node] : node.kind === 'parallel' ? node.branches.flatMap(taskNodes) : []));
}

/** The first task step of the definition that would be refused, with the step named. */
export function checkDefinition(definition: CompiledWorkflow, facts: DoorFacts): DoorRefusal | undefined {
  for (const node of taskNodes(definition.machine)) {
    // Nothing gates a step said to have no side effects: the sender may not understate them.
    const does = facts.sideEffectClassFor(node.taskType, node.params);
    if (!node.sideEffects && does !== 'read-only') {
      return {
        code: 'SideEffectsUnderstated',
        message: `step "${node.id}": ${node.taskType} with these parameters ${does === 'deploy' ? 'deploys' : 'changes code'}, but the definition says it has no side effects, so no approval gate would guard it`,
      };
    }
    const refusal = checkTask(
      { taskType: node.taskType, pool: node.pool, params: node.params, name: `step "${node.id}"`, paramsAt: 'params', literalOnly: true },
      facts,
    );
    if (refusal) return refusal;
  }
  return undefined;
}

const startWorkflow = z.object({ definition: compiledWorkflowSchema });

export const workflowDoor =
  (facts: DoorFacts): CommandAdmission =>
  (command) => {
    if (command.type !== 'StartWorkflow') return undefined;
    const data = startWorkflow.safeParse(command.data);
    return data.success ? checkDefinition(data.data.definition, facts) : undefined;
  };
