import { executorFor, sideEffectClassFor } from '../../adapters/executors/registry.ts';
import type { SideEffectClass } from '../../domain/workflow/gate-policy.ts';
import type { Executor } from '../../domain/ports/executor.ts';
import type { ReplyTarget } from '../../domain/task/fields.ts';
import type { Config } from '../config/schema.ts';
import { POOLS } from '../pools.ts';

// What the doors know about this deployment: the task types its workers run and in which pool,
// and the reply targets it can deliver to. Read from configuration once, at role start.

export interface DoorFacts {
  /** The executor registered for a task type (its pool and parameter schema), or undefined. */
  readonly executorFor: (taskType: string) => Pick<Executor, 'pool' | 'parameters'> | undefined;
  readonly pools: readonly string[];
  /** What a task of this type does outside with these parameters (unreadable parameters: the worst it can do). */
  readonly sideEffectClassFor: (taskType: string, params: unknown) => SideEffectClass;
  /** Which reply-target kinds this deployment delivers, and why not where it does not. */
  readonly replyTargets: Readonly<Record<ReplyTarget['kind'], { readonly served: true } | { readonly served: false; readonly why: string }>>;
}

export const doorFacts = (config: Config): DoorFacts => ({
  executorFor,
  pools: POOLS,
  sideEffectClassFor,
  replyTargets: {
    // The result reactor sends no webhook without a key to sign it with (README: refused without it).
    webhook: config.webhooks.signingSecret ? { served: true } : { served: false, why: 'webhook reply targets need WEBHOOK_SIGNING_SECRET, which is not set' },
    // Slack answers are posted by the reactors with the bot token; the console's targets are NATS subjects.
    slack: config.slack ? { served: true } : { served: false, why: 'Slack reply targets need SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, which are not set' },
    nats: { served: true },
  },
});
