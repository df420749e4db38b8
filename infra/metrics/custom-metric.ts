import type { Metric } from 'prom-client';

// A metric whose values are computed at scrape time from something outside this process (a
// read model, JetStream), in the shape prom-client's Registry formats. prom-client's own
// Counter and Histogram only count what this process observed, which would reset on restart.

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** For histogram parts: `<name>_bucket`, `<name>_sum`, `<name>_count`. */
  readonly metricName?: string;
}

export function scrapedMetric(name: string, help: string, type: MetricType, values: () => Promise<readonly MetricValue[]>): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await values() }),
    reset: () => undefined,
  };
  // The Registry reads only name, help, type and get(); the class types do not admit a plain object.
  return metric as unknown as Metric;
}
