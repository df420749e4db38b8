import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.ts';

// `npm run cluster-check` at a small size: the product on a real 3-node JetStream cluster with
// NATS_REPLICAS=3, the event log's leader killed with SIGKILL mid-run. The script itself counts
// (from the log and the marker files) and exits 0 only when nothing was lost.

describe('a 3-node cluster losing the event log leader', () => {
  it('keeps every stream and bucket at 3 replicas and completes every workflow, each step run exactly once', async () => {
    const { code, output } = await runScript('test/chaos/cluster-check.ts', ['--workflows', '6', '--timeout-s', '60'], 110_000);
    expect(output).toMatch(/kill -9 of n\d \(pid \d+\), the leader of ORCH_EVENTS/);
    expect(output).toMatch(/ORCH_EVENTS=R3/);
    expect(output).not.toMatch(/=R[12]\b/);
    expect(output).toMatch(/workflows\s+started 6\s+completed 6\s+failed 0\s+stuck 0\s+lost 0/);
    expect(output).toMatch(/steps whose marker shows other than exactly one finished run: 0 of 12/);
    expect(output, output).toMatch(/^PASS/m);
    expect(code).toBe(0);
  }, 120_000);
});
