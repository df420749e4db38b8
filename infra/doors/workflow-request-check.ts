import { stat } from 'node:fs/promises';
import { resolveInWorkspace } from '../../adapters/executors/workspace.ts';
import type { CompiledWorkflow, Machine, TaskNode } from '../../domain/workflow/compiled.ts';
import type { Config } from '../config/schema.ts';
import { doorFacts } from './door-facts.ts';
import { checkDefinition } from './workflow-door.ts';

// What a front desk checks before it sends StartWorkflow, so a person hears the reason at once:
// the workflow door's checks, and, where this machine holds the workspace, that each literal
// `repository` a step names exists there. In a split layout (the front desk on a machine
// without the workspace: WORKSPACE_ROOT unset or absent here) only the syntactic checks run;
// the worker's own check still refuses a missing repository when the step runs.

export interface RequestRefusal {
  readonly code: string;
  readonly message: string;
}

export type WorkflowRequestCheck = (definition: CompiledWorkflow) => Promise<RequestRefusal | undefined>;

const taskNodes = (machine: Machine): TaskNode[] =>
  machine.nodes.flatMap((node) => (node.kind === 'task' ? [node] : node.kind === 'parallel' ? node.branches.flatMap(taskNodes) : []));

async function isFolder(candidate: string): Promise<boolean> {
  try {
    return (await stat(candidate)).isDirectory();
  } catch {
    return false;
  }
}

export function workflowRequestCheck(config: Config): WorkflowRequestCheck {
  const facts = doorFacts(config);
  const root = config.work.workspaceRoot;
  return async (definition) => {
    const refused = checkDefinition(definition, facts);
    if (refused) return refused;
    if (root === undefined || !(await isFolder(root))) return undefined;
    for (const node of taskNodes(definition.machine)) {
      const repository = node.params.repository;
      if (typeof repository !== 'string' || repository.includes('{{')) continue;
      try {
        await resolveInWorkspace(root, repository);
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'RepositoryNotFound';
        return { code, message: `step "${node.id}": ${(error as Error).message}` };
      }
    }
    return undefined;
  };
}
