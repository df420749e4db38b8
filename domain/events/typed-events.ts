import type { ConversationEvent } from '../conversation/events.ts';
import { eventTypeEntry } from './catalog.ts';
import type { RecordedEvent } from '../ports/event-store.ts';
import { InvalidStreamName, parseStreamName } from '../streams.ts';
import type { PlanEvent } from '../plan/events.ts';
import type { TaskEvent } from '../task/events.ts';
import type { WorkflowEvent } from '../workflow/events.ts';

// The one typed reader of recorded events, for every reader (read models, reactors, process
// managers, front ends). It trusts nothing: an event outside the category, of a type the catalog
// does not know, or whose data fails its schema yields nothing (the caller logs or skips it).
// The id comes from the validated stream name, so it is safe in a key.

export const TASK_CATEGORY = 'task';
export const CONVERSATION_CATEGORY = 'conversation';
export const WORKFLOW_CATEGORY = 'workflow';
export const PLAN_CATEGORY = 'plan';

export interface Typed<Event> {
  /** The aggregate id: the `<id>` of `<category>-<id>`, free of `.`, `*`, `>` and white space. */
  readonly id: string;
  readonly event: Event;
}

function idInCategory(stream: string, category: string): string | undefined {
  try {
    const parsed = parseStreamName(stream);
    return parsed.category === category ? parsed.id : undefined;
  } catch (error) {
    if (error instanceof InvalidStreamName) return undefined;
    throw error;
  }
}

function typedIn<Event>(category: string, idField: string, recorded: RecordedEvent): Typed<Event> | undefined {
  const entry = eventTypeEntry(recorded.type);
  const id = idInCategory(recorded.stream, category);
  if (entry?.category !== category || id === undefined) return undefined;
  const parsed = entry.schema.safeParse(recorded.data);
  // Data naming another aggregate than its stream is corrupt; guessing which is right would be worse.
  if (!parsed.success || (parsed.data as Record<string, unknown>)[idField] !== id) return undefined;
  // The catalog entry for this type produced the data, which TypeScript cannot correlate by itself.
  return { id, event: { type: recorded.type, data: parsed.data } as Event };
}

/**
 * A task or conversation is created by the first event of its stream (its decider refuses to
 * create it twice), so a creating event anywhere else is not counted again.
 */
export const opensStream = (recorded: RecordedEvent): boolean => recorded.revision === 0n;

export const taskEventIn = (recorded: RecordedEvent): Typed<TaskEvent> | undefined => typedIn(TASK_CATEGORY, 'taskId', recorded);

export const conversationEventIn = (recorded: RecordedEvent): Typed<ConversationEvent> | undefined =>
  typedIn(CONVERSATION_CATEGORY, 'conversationId', recorded);

export const workflowEventIn = (recorded: RecordedEvent): Typed<WorkflowEvent> | undefined => typedIn(WORKFLOW_CATEGORY, 'workflowId', recorded);

export const planEventIn = (recorded: RecordedEvent): Typed<PlanEvent> | undefined => typedIn(PLAN_CATEGORY, 'planId', recorded);
