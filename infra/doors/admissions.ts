import type { CommandAdmission } from '../../actors/runtime/aggregate-definition.ts';
import type { Config } from '../config/schema.ts';
import { doorFacts } from './door-facts.ts';
import { taskDoor } from './task-door.ts';
import { workflowDoor } from './workflow-door.ts';

// Which aggregate has a door, for the aggregates role: `admit` of each AggregateHost.

export function admissionsFor(config: Config): (category: string) => CommandAdmission | undefined {
  const facts = doorFacts(config);
  const doors: Readonly<Record<string, CommandAdmission>> = { task: taskDoor(facts), workflow: workflowDoor(facts) };
  return (category) => doors[category];
}
