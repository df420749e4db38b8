import { z } from 'zod';
import type { RegisteredTaskType } from '../../domain/plan/index.ts';
import type { PlanningContext } from '../../domain/ports/planner.ts';
import { PLAN_TOOL_NAME } from './plan-tool.ts';

// What the model is told. The rules and the registered task types go in the system prompt;
// the chat request and the thread's context go in the user turn, as data, since they come
// from people and must not be able to rewrite the rules.

/** Context variables beyond this are cut, and the prompt says so (CM5). */
const MAX_CONTEXT_CHARS = 4_000;

const parametersOf = (taskType: RegisteredTaskType): string => {
  try {
    const { $schema: _, ...schema } = z.toJSONSchema(taskType.parameters, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return JSON.stringify(schema);
  } catch {
    return '(parameters are checked when the plan is validated)';
  }
};

export const systemPrompt = (registry: readonly RegisteredTaskType[]): string =>
  [
    'You plan software work for an orchestration platform. Turn the request into a plan and submit it with the',
    `${PLAN_TOOL_NAME} tool. The platform runs the plan; you never run anything yourself.`,
    '',
    'Rules:',
    '- Task steps may use only these registered task types, with parameters matching each schema:',
    ...registry.map((t) => `  - ${t.taskType}${t.sideEffects ? ' (has side effects: changes code or deploys)' : ''}: ${parametersOf(t)}`),
    '- Paths and repositories are relative to the workspace: never absolute, never with "..".',
    '- Step ids are unique in the whole plan: letters, digits, "_" and "-", starting with a letter.',
    '- Phases run in order; steps in a phase run in order; a parallel step runs its branches at the same time.',
    '- A conditional step reads outputs of steps that finish before it, e.g. steps.tests.output.failed == 0',
    '  (operators == != < <= > >= && || !), and runs `then` or `else`.',
    '- Put an approval step before any step with side effects.',
    '- complexity is "simple" for one or two read-only steps, otherwise "complex".',
    '- estimate gives the expected duration in milliseconds and cost in US dollars of running the plan.',
    '- If the request cannot be done with these task types, submit the closest useful read-only plan and say so in the summary.',
  ].join('\n');

const contextText = (context: PlanningContext): string => {
  const text = JSON.stringify(context.variables);
  return text.length <= MAX_CONTEXT_CHARS ? text : `${text.slice(0, MAX_CONTEXT_CHARS)}… (cut at ${MAX_CONTEXT_CHARS} of ${text.length} characters)`;
};

export const requestMessage = (request: string, context: PlanningContext): string =>
  [
    'The request, as written in the chat thread:',
    '<request>',
    request,
    '</request>',
    "The thread's context variables (currentRepo is the repository the thread is about):",
    '<context>',
    contextText(context),
    '</context>',
  ].join('\n');

export const repairMessage = (issues: readonly string[]): string =>
  ['The plan you submitted is invalid:', ...issues.map((issue) => `- ${issue}`), `Call ${PLAN_TOOL_NAME} again with the whole corrected plan.`].join('\n');

/** Rough token count of prompt text (~3 characters a token errs on the high side), for cost ceilings. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 3);
