import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

// The metrics one process counts in memory: commands its aggregate hosts handled, Slack Web API
// calls it made, alerts (none yet: alert rules arrive with issue 14's later deliverables), and
// prom-client's process and Node.js metrics. These restart from zero with the process, as
// Prometheus expects of process counters (`rate()` handles the reset).

export const COMMAND_DURATION_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ProcessMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter<'category' | 'outcome'>;
  private readonly commandSeconds: Histogram<'category'>;
  private readonly slackCalls: Counter<'method' | 'outcome'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.commands = new Counter({
      name: 'orch_commands_total',
      help: 'Commands handled by the aggregate hosts of this process, by category and outcome (accepted, rejected, invalid, failed).',
      labelNames: ['category', 'outcome'],
      registers: [this.registry],
    });
    this.commandSeconds = new Histogram({
      name: 'orch_command_duration_seconds',
      help: 'Time from taking a command to replying, in the aggregate hosts of this process.',
      labelNames: ['category'],
      buckets: COMMAND_DURATION_BOUNDS,
      registers: [this.registry],
    });
    this.slackCalls = new Counter({
      name: 'orch_slack_api_calls_total',
      help: 'Slack Web API calls made by this process, by method and outcome (ok, error).',
      labelNames: ['method', 'outcome'],
      registers: [this.registry],
    });
    new Counter({
      name: 'orch_alerts_total',
      help: 'Alerts raised, by rule and severity (none until alert rules exist).',
      labelNames: ['rule', 'severity'],
      registers: [this.registry],
    });
  }

  /** The aggregate host's `onHandled` hook. */
  readonly commandHandled = (category: string, outcome: string, seconds: number): void => {
    this.commands.inc({ category, outcome });
    this.commandSeconds.observe({ category }, seconds);
  };

  readonly slackApiCalled = (method: string, outcome: 'ok' | 'error'): void => {
    this.slackCalls.inc({ method, outcome });
  };

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
