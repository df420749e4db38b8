import Anthropic from '@anthropic-ai/sdk';
import { isRight, left, mapLeft, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { addUsage, noUsage, tokenCostUsd, type ModelSpend, type TokenPrice } from '../../domain/cost/token-cost.ts';
import { toMicros, toUsd } from '../../domain/cost/usd.ts';
import { describeIssues, parsePlan, plannerOutputInvalid, type Plan, type RegisteredTaskType } from '../../domain/plan/index.ts';
import type { Planner, PlannerError, PlanningContext, ProducedPlan } from '../../domain/ports/planner.ts';
import { mask, plannerFailureOf } from './api-failures.ts';
import { classifyRequest } from './model-choice.ts';
import { forcePlanTool, PLAN_TOOL_NAME, planTool } from './plan-tool.ts';
import { estimateTokens, repairMessage, requestMessage, systemPrompt } from './planning-prompt.ts';

// The planner through Anthropic's Messages API (OR1): the request goes to the cheaper model
// when simple and the stronger one when complex (model-choice.ts), the plan comes back as a
// forced tool call (plan-tool.ts) and must pass the plan schema and validatePlan. An invalid
// plan gets one repair attempt, with its problems sent back as the tool's error result; still
// invalid, it is PlannerOutputInvalid. Tokens and cost are counted across both calls.

export interface PlannerModel {
  readonly model: string;
  readonly price: TokenPrice;
}

export interface AnthropicPlannerOptions {
  readonly apiKey: string;
  /** Unset: the SDK's default, https://api.anthropic.com. */
  readonly baseUrl?: string;
  readonly models: { readonly simple: PlannerModel; readonly complex: PlannerModel };
  readonly registry: readonly RegisteredTaskType[];
  /** Retries of 429 / 529 / 5xx / connection failures, with the SDK's backoff. Default 4 (five attempts). */
  readonly maxRetries?: number;
  /** Per attempt. Default 2 minutes. */
  readonly timeoutMs?: number;
  /** Output budget per call; plans are small. Default 8192. */
  readonly maxTokens?: number;
}

/** One call, then at most one repair call. */
const CALLS = 2;

type Answer = Either<readonly string[], Plan>;

const spendOf = (choice: PlannerModel, spent: ModelSpend, usage: Anthropic.Usage): ModelSpend => {
  const call = { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens };
  return { model: choice.model, usage: addUsage(spent.usage, call), costUsd: toUsd(toMicros(spent.costUsd) + toMicros(tokenCostUsd(call, choice.price))) };
};

const planCall = (message: Anthropic.Message): Anthropic.ToolUseBlock | undefined =>
  message.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use' && block.name === PLAN_TOOL_NAME);

function readAnswer(message: Anthropic.Message, registry: readonly RegisteredTaskType[]): Answer {
  const call = planCall(message);
  if (message.stop_reason === 'max_tokens') return left(['the answer was cut off at the output token limit; submit a shorter plan']);
  if (call === undefined) return left([`the answer did not call ${PLAN_TOOL_NAME} (stop reason: ${message.stop_reason ?? 'none'})`]);
  return pipe(parsePlan(call.input, registry), mapLeft(describeIssues));
}

/** The assistant turn sent back for the repair: only what the API accepts as input again. */
const assistantTurn = (message: Anthropic.Message): Anthropic.MessageParam => ({
  role: 'assistant',
  content: message.content.flatMap((block): Anthropic.ContentBlockParam[] =>
    block.type === 'tool_use'
      ? [{ type: 'tool_use', id: block.id, name: block.name, input: block.input }]
      : block.type === 'text'
        ? [{ type: 'text', text: block.text }]
        : [],
  ),
});

/** The problems go back as the tool call's error result, or as plain text when there was no call. */
const repairTurn = (message: Anthropic.Message, issues: readonly string[]): Anthropic.MessageParam => {
  const call = planCall(message);
  return call === undefined
    ? { role: 'user', content: repairMessage(issues) }
    : { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, is_error: true, content: repairMessage(issues) }] };
};

export function anthropicPlanner(options: AnthropicPlannerOptions): Planner {
  const maxRetries = options.maxRetries ?? 4;
  const maxTokens = options.maxTokens ?? 8_192;
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseUrl !== undefined && { baseURL: options.baseUrl }),
    maxRetries,
    timeout: options.timeoutMs ?? 120_000,
    // The SDK's own log lines would bypass the product's logger and its redaction.
    logLevel: 'off',
  });
  const system = systemPrompt(options.registry);
  const choose = (request: string, context: PlanningContext): PlannerModel => options.models[classifyRequest(request, context.variables, options.registry)];

  async function plan(request: string, context: PlanningContext): Promise<Either<PlannerError, ProducedPlan>> {
    const choice = choose(request, context);
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: requestMessage(request, context) }];
    let spent: ModelSpend = { model: choice.model, usage: noUsage, costUsd: 0 };
    let issues: readonly string[] = [];
    for (let call = 1; call <= CALLS; call += 1) {
      let message: Anthropic.Message;
      try {
        message = await client.messages.create({ model: choice.model, max_tokens: maxTokens, system, messages, tools: [planTool], tool_choice: forcePlanTool });
      } catch (error) {
        return left(plannerFailureOf(error, { attempts: maxRetries + 1, spent, secret: options.apiKey }));
      }
      spent = spendOf(choice, spent, message.usage);
      const answer = readAnswer(message, options.registry);
      if (isRight(answer)) return right({ plan: answer.right, ...spent });
      // Issues quote the model's output back; the key is masked there too, however unlikely.
      issues = answer.left.map((issue) => mask(issue, options.apiKey));
      messages.push(assistantTurn(message), repairTurn(message, issues));
    }
    return left(plannerOutputInvalid(issues, CALLS, spent));
  }

  /** Both calls at full output, the repair's input carrying the first answer back. */
  function costCeilingUsd(request: string, context: PlanningContext): number {
    const { price } = choose(request, context);
    const prompt = estimateTokens(system + JSON.stringify(planTool) + requestMessage(request, context));
    const usage = { inputTokens: prompt + (prompt + maxTokens + 1_000), outputTokens: CALLS * maxTokens };
    return tokenCostUsd(usage, price);
  }

  return { plan, costCeilingUsd };
}
