import { parseWorkflowCommand, workflowDecider, type WorkflowCommand, type WorkflowEvent, type WorkflowState } from '../../domain/workflow/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const workflowAggregate: AggregateDefinition<WorkflowCommand, WorkflowEvent, WorkflowState> = {
  category: 'workflow',
  decider: workflowDecider,
  creates: ['StartWorkflow'],
  schemaVersion: 1,
  // The state is plain JSON (the compiled definition included), so the default encoding serves.
  snapshot: { version: 1 },
  // Who decides or cancels is who sent it, never a field of the payload.
  parseCommand: parseWithId(commandCatalog.workflow.idField, parseWorkflowCommand, commandCatalog.workflow.actorFields),
};
