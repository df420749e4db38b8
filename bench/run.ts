import { runAggregateLoadBenchmark } from './aggregate-load.ts';
import { runEventStoreBenchmark } from './event-store.ts';

// `npm run bench`: every benchmark, one after another (they are not part of the test run).
await runEventStoreBenchmark();
await runAggregateLoadBenchmark();
