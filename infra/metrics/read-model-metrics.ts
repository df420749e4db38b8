import type { Registry } from 'prom-client';
import type { Doc } from '../../projections/runtime/projection.ts';
import {
  cumulativeBuckets,
  QUEUE_WAIT_BOUNDS,
  TASK_DURATION_BOUNDS,
  WORKFLOW_DURATION_BOUNDS,
  type StoredHistogram,
} from '../../projections/models/metrics-histogram.ts';
import {
  labelsOf,
  metricsTotals,
  MODELS_KEY,
  TASKS_KEY,
  WORKFLOWS_KEY,
  type Counts,
  type Histograms,
  type ModelTotals,
  type TaskTotals,
  type WorkflowTotals,
} from '../../projections/models/metrics-totals.ts';
import { scrapedMetric, type MetricValue } from './custom-metric.ts';

// The event-derived metrics, read from the metrics-totals read model at each scrape: they
// survive restarts because the log does. One query per scrape serves all of them.

export interface TotalsSource {
  /** The documents at these keys of a model (missing ones absent). */
  docs(model: string, keys: readonly string[]): Promise<Readonly<Record<string, Doc | null>>>;
}

interface Totals {
  /** False when the read model could not be asked: the metrics are then absent, not zero. */
  readonly available: boolean;
  readonly tasks?: TaskTotals;
  readonly workflows?: WorkflowTotals;
  readonly models?: ModelTotals;
}

/** Shares one read among the metrics of one scrape (prom-client asks each metric in parallel). */
function sharedRead(source: TotalsSource): () => Promise<Totals> {
  let pending: { at: number; read: Promise<Totals> } | undefined;
  return () => {
    const now = Date.now();
    if (!pending || now - pending.at > 500) {
      const read = source.docs(metricsTotals.name, [TASKS_KEY, WORKFLOWS_KEY, MODELS_KEY]).then(
        (docs): Totals => ({
          available: true,
          tasks: (docs[TASKS_KEY] ?? undefined) as TaskTotals | undefined,
          workflows: (docs[WORKFLOWS_KEY] ?? undefined) as WorkflowTotals | undefined,
          models: (docs[MODELS_KEY] ?? undefined) as ModelTotals | undefined,
        }),
        (): Totals => ({ available: false }),
      );
      pending = { at: now, read };
    }
    return pending.read;
  };
}

const counterValues = (counts: Counts | undefined, names: readonly string[]): MetricValue[] =>
  Object.entries(counts ?? {}).map(([key, value]) => {
    const labels = labelsOf(key);
    return { value, labels: Object.fromEntries(names.map((name, i) => [name, labels[i] ?? ''])) };
  });

const histogramValues = (name: string, histograms: Histograms | undefined, bounds: readonly number[], names: readonly string[]): MetricValue[] =>
  Object.entries(histograms ?? {}).flatMap(([key, histogram]: [string, StoredHistogram]) => {
    const values = labelsOf(key);
    const labels = Object.fromEntries(names.map((n, i) => [n, values[i] ?? '']));
    return [
      ...cumulativeBuckets(histogram, bounds).map(({ le, count }) => ({ metricName: `${name}_bucket`, value: count, labels: { ...labels, le } })),
      { metricName: `${name}_sum`, value: histogram.sum, labels },
      { metricName: `${name}_count`, value: histogram.count, labels },
    ];
  });

export function registerReadModelMetrics(registry: Registry, source: TotalsSource): void {
  const totals = sharedRead(source);
  const metric = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: (t: Totals) => MetricValue[]) =>
    registry.registerMetric(scrapedMetric(name, help, type, async () => values(await totals())));
  metric(
    'orch_metrics_totals_available',
    '1 when the metrics-totals read model answered this scrape; 0 when the event-derived metrics are missing from it.',
    'gauge',
    (t) => [{ value: t.available ? 1 : 0, labels: {} }],
  );
  metric('orch_tasks_total', 'Tasks finished, by task type, pool and outcome (completed, failed, cancelled).', 'counter', (t) =>
    counterValues(t.tasks?.finished, ['type', 'pool', 'outcome']),
  );
  metric(
    'orch_task_duration_seconds',
    'Run time of finished tasks (the worker-reported run time of completed ones; from taken to end otherwise).',
    'histogram',
    (t) => histogramValues('orch_task_duration_seconds', t.tasks?.duration, TASK_DURATION_BOUNDS, ['type', 'pool']),
  );
  metric('orch_task_queue_wait_seconds', 'Schedule-to-start: from queued (or due for a retry) to taken by a worker.', 'histogram', (t) =>
    histogramValues('orch_task_queue_wait_seconds', t.tasks?.queueWait, QUEUE_WAIT_BOUNDS, ['type', 'pool']),
  );
  metric('orch_workflows_total', 'Workflows finished, by template and outcome (completed, failed, cancelled, timed_out).', 'counter', (t) =>
    counterValues(t.workflows?.finished, ['template', 'outcome']),
  );
  metric('orch_workflow_duration_seconds', 'Time from a workflow start to its end.', 'histogram', (t) =>
    histogramValues('orch_workflow_duration_seconds', t.workflows?.duration, WORKFLOW_DURATION_BOUNDS, ['template']),
  );
  metric('orch_approvals_pending', 'Approval gates waiting for a decision.', 'gauge', (t) => [{ value: t.workflows?.approvalsPending ?? 0, labels: {} }]);
  metric('orch_model_tokens_total', 'Planner model tokens, by model and kind (input, output).', 'counter', (t) =>
    counterValues(t.models?.tokens, ['model', 'kind']),
  );
  metric('orch_model_cost_usd_total', 'Planner model cost in US dollars, by model.', 'counter', (t) => counterValues(t.models?.costUsd, ['model']));
}
