import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DurableAgenda } from '../../actors/runtime/durable-agenda.ts';
import type { DueTimer } from '../../domain/process/process-manager.ts';
import { waitFor } from '../support/waiting.ts';

// The host's durable agenda on real Node timers: armed by name, idempotent when set again,
// re-armed when the due time moves, dropped with its key, and fired again after a failure only
// while its key still wants it.

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
const timer = (name: string, dueAt: string): DueTimer<string> => ({ name, dueAt, payload: name });

function agendaRecording(fail: (key: string, name: string, firing: number) => boolean = () => false) {
  const fired: string[] = [];
  const failures: string[] = [];
  const agenda = new DurableAgenda<string>({
    fire: async (key, t) => {
      fired.push(`${key}:${t.name}`);
      if (fail(key, t.name, fired.filter((f) => f === `${key}:${t.name}`).length)) throw new Error('not yet');
    },
    onFailure: (_error, key, t) => failures.push(`${key}:${t.name}`),
    maxRetryDelayMs: 100,
  });
  return { agenda, fired, failures };
}

describe('the durable agenda', () => {
  it('fires each timer once at its due time (at once when past), however often the same timers are set', async () => {
    const { agenda, fired } = agendaRecording();
    const timers = [timer('soon', inMs(400)), timer('past', inMs(-1_000))];
    agenda.set('k', timers);
    agenda.set('k', timers);
    await waitFor('the past timer', () => fired.length > 0);
    expect(fired).toEqual(['k:past']);
    agenda.set('k', [...timers]);
    await waitFor('the soon timer', () => fired.length > 1);
    await sleep(50);
    expect(fired).toEqual(['k:past', 'k:soon']);
    agenda.stop();
  });

  it('moves a timer whose due time changed, and disarms one the state no longer asks for', async () => {
    const { agenda, fired } = agendaRecording();
    const moved = inMs(400);
    agenda.set('k', [timer('a', inMs(20)), timer('b', inMs(20))]);
    agenda.set('k', [timer('a', moved)]);
    await sleep(150);
    expect(fired).toEqual([]);
    await waitFor('the moved timer', () => fired.length > 0);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(moved) - 5);
    await sleep(50);
    expect(fired).toEqual(['k:a']);
    agenda.stop();
  });

  it('forgets every timer of a dropped key, or of a key set to no timers', async () => {
    const { agenda, fired } = agendaRecording();
    agenda.set('gone', [timer('a', inMs(20))]);
    agenda.set('empty', [timer('a', inMs(20))]);
    agenda.drop('gone');
    agenda.set('empty', []);
    expect(agenda.size()).toEqual({ keys: 0, armed: 0 });
    await sleep(50);
    expect(fired).toEqual([]);
  });

  it('fires a failed timer again, with a growing delay, until it is done; not once its key stopped wanting it', async () => {
    const { agenda, fired, failures } = agendaRecording((key, _name, firing) => (key === 'flaky' ? firing < 3 : true));
    agenda.set('flaky', [timer('t', inMs(0))]);
    agenda.set('dropped', [timer('t', inMs(0))]);
    await waitFor('both fired once', () => fired.includes('dropped:t') && fired.includes('flaky:t'));
    agenda.drop('dropped');
    await waitFor('the flaky timer done', () => fired.filter((f) => f === 'flaky:t').length === 3);
    await sleep(300);
    expect(fired.filter((f) => f === 'flaky:t')).toHaveLength(3);
    expect(failures.filter((f) => f === 'flaky:t')).toHaveLength(2);
    expect(fired.filter((f) => f === 'dropped:t')).toHaveLength(1);
    agenda.stop();
  });
});
