import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.ts';

// `npm run chaos` at a small size: every role as its own supervised process on a real
// nats-server, 20 workflows and 10 tasks on real git repositories, two role processes and the
// broker killed with SIGKILL. Four of the tasks and the last step of every fourth workflow are
// `sf-deploy` deploys (the `sf` stand-in's org counts them); seed 12 kills the salesforce
// worker among the two role processes. The script counts from its own witnesses (the log, the
// marker files, the org's record, the Slack stand-in's record) and exits 0 only when nothing
// was lost, stuck or duplicated and the product recovered from every fault.

describe('the product under kill -9 of role processes and the broker (small)', () => {
  it('loses, strands and duplicates nothing, and recovers from every fault', async () => {
    const args = [
      '--workflows',
      '20',
      '--tasks',
      '10',
      '--deploys',
      '4',
      '--role-kills',
      '2',
      '--broker-kills',
      '1',
      '--seed',
      '12',
      '--gap-ms',
      '1500',
      '--settle-s',
      '30',
      '--probe-timeout-s',
      '30',
      '--item-wait-s',
      '30',
    ];
    const { code, output } = await runScript('test/chaos/chaos-run.ts', args, 170_000);
    expect(output).toMatch(/fault schedule \(3\): .*workers:salesforce#1/);
    expect(output).toMatch(/faults\s+3 \(1 nats-server, 2 role processes\); recovered 3/);
    expect(output).toMatch(/duplicate ids 0\s+revision gaps 0/);
    expect(output).toMatch(/safe to run again\) \d+ task\/step repositories\s+run again after a fault \d+\s+missing 0/);
    expect(output).toMatch(/deploys \(the org's record\) 9 deploy tasks\/steps, 9 deploys started\s+exactly once 9\s+duplicated 0\s+missing 0/);
    expect(output).toMatch(/still outcomeUnknown 0/);
    expect(output, output).toMatch(/^PASS/m);
    expect(code).toBe(0);
  }, 180_000);
});
