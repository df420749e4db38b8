import { runAggregateLoadBenchmark } from './aggregate-load.ts';
import { runCommandsBenchmark } from './commands.ts';
import { runEventStoreBenchmark } from './event-store.ts';
import { runProjectionsBenchmark } from './projections.ts';
import { runWorkflowsBenchmark } from './workflows.ts';

// `npm run bench`: every benchmark, one after another (they are not part of the test run).
// `npm run bench -- commands projections` runs only the ones named.
const benchmarks: Record<string, () => Promise<void>> = {
  'event-store': runEventStoreBenchmark,
  commands: runCommandsBenchmark,
  projections: runProjectionsBenchmark,
  'aggregate-load': runAggregateLoadBenchmark,
  workflows: runWorkflowsBenchmark,
};
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; benchmarks: ${Object.keys(benchmarks).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benchmarks)) if (chosen.length === 0 || chosen.includes(name)) await run();
