import { ProgressReactor } from '../actors/reactors/progress-reactor.ts';
import { ResultReactor } from '../actors/reactors/result-reactor.ts';
import { ThreadNotifier } from '../actors/reactors/thread-notifier.ts';
import { aggregateStateAt } from '../actors/reactors/aggregate-state-at.ts';
import { ConsoleNoticePoster } from '../adapters/console/console-notice-poster.ts';
import { taskTypeDescriptors } from '../adapters/executors/registry.ts';
import { AggregateStateClient } from '../actors/runtime/aggregate-state-client.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { SlackChatPoster, slackWebClient } from '../adapters/slack/slack-chat-poster.ts';
import { HttpWebhookSender } from '../adapters/webhook/http-webhook-sender.ts';
import { nextWebhookDelayMs } from '../adapters/webhook/retry-schedule.ts';
import type { RoleContext } from './role-context.ts';
import { secretValuesOf } from './secret-values.ts';

// The `reactors` role: results, progress, plan previews and workflow messages out to where
// requests came from, each a process manager (domain/process/) on the process-manager host.
// One process of it: each keeps its checkpoints, and delivery is recorded on the Delivery
// aggregate so a restart neither doubles nor loses a reply. States they must see (a Delivery,
// a conversation's thread, a plan or workflow first seen mid-stream) are asked of the
// aggregate hosts, never folded here.

export async function startReactors({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const checkpoints = await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas });
  const commands = new CommandClient(nc, config.prefix);
  const states = new AggregateStateClient(nc, config.prefix);
  const secretValues = secretValuesOf(config);
  const chat = config.slack ? new SlackChatPoster(slackWebClient(config.slack.botToken, config.slack.apiUrl), secretValues) : undefined;
  const log = logger.child({ role: 'reactors' });
  const stops: (() => Promise<void>)[] = [];

  if (config.features.resultCallbacks) {
    const results = new ResultReactor({
      store,
      checkpoints,
      commands,
      deliveryState: (deliveryId) => states.read('delivery', deliveryId),
      chat,
      webhooks: config.webhooks.signingSecret ? new HttpWebhookSender({ secret: config.webhooks.signingSecret, secretValues }) : undefined,
      webhookMaxAttempts: config.webhooks.maxAttempts,
      webhookDelayMs: (attempt, outcome) => nextWebhookDelayMs(outcome, attempt) ?? 0,
      publish: (subject, payload) => nc.publish(subject, payload),
      logger: log.child({ reactor: 'results' }),
      taskTypes: taskTypeDescriptors,
    });
    await results.start();
    stops.push(() => results.stop());
  }
  if (config.features.orchestration) {
    // Plans and workflows speak in their thread: Slack threads, or console sessions' subjects.
    const consoleNotices = new ConsoleNoticePoster(config.prefix, (subject, payload) => nc.publish(subject, payload));
    const notifier = new ThreadNotifier({
      store,
      checkpoints,
      commands,
      chatFor: (thread) => (thread.source === 'console' ? consoleNotices : thread.source === 'slack' ? chat : undefined),
      conversationState: (conversationId) => states.read('conversation', conversationId),
      deliveryState: (deliveryId) => states.read('delivery', deliveryId),
      stateAt: aggregateStateAt(states),
      logger: log.child({ reactor: 'thread-notices' }),
      taskTypes: taskTypeDescriptors,
    });
    await notifier.start();
    stops.push(() => notifier.stop());
  }
  if (chat && config.slack && config.features.progressReporting) {
    const progress = new ProgressReactor({
      store,
      checkpoints,
      commands,
      chat,
      deliveryState: (deliveryId) => states.read('delivery', deliveryId),
      intervalMs: config.slack.progressIntervalMs,
      logger: log.child({ reactor: 'progress' }),
    });
    await progress.start();
    stops.push(() => progress.stop());
  }
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
