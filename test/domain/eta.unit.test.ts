import { describe, expect, it } from 'vitest';
import { describeRemaining, estimateCompletion } from '../../domain/progress/eta.ts';

const start = '2026-11-21T10:00:00.000Z';
const after = (ms: number) => new Date(Date.parse(start) + ms).toISOString();

describe('ETA from weighted progress', () => {
  it('extrapolates the pace so far: 25% after 30 s leaves 90 s', () => {
    expect(estimateCompletion({ startedAt: start, at: after(30_000), percent: 25 })).toEqual({ remainingMs: 90_000, etaAt: after(120_000) });
  });

  it('80% after 4 min leaves 1 min', () => {
    expect(estimateCompletion({ startedAt: start, at: after(240_000), percent: 80 })?.remainingMs).toBe(60_000);
  });

  it('gives no estimate before enough progress, at 100%, or for times out of order or unreadable', () => {
    expect(estimateCompletion({ startedAt: start, at: after(1_000), percent: 0 })).toBeUndefined();
    expect(estimateCompletion({ startedAt: start, at: after(1_000), percent: 4.9 })).toBeUndefined();
    expect(estimateCompletion({ startedAt: start, at: after(1_000), percent: 100 })).toBeUndefined();
    expect(estimateCompletion({ startedAt: after(5_000), at: start, percent: 50 })).toBeUndefined();
    expect(estimateCompletion({ startedAt: 'yesterday', at: after(5_000), percent: 50 })).toBeUndefined();
    expect(estimateCompletion({ startedAt: start, at: after(5_000), percent: Number.NaN })).toBeUndefined();
  });

  it.each([
    [400, 'about 1 s'],
    [42_000, 'about 42 s'],
    [90_000, 'about 2 min'],
    [59 * 60_000, 'about 59 min'],
    [60 * 60_000, 'about 1 h'],
    [135 * 60_000, 'about 2 h 15 min'],
  ])('describes %d ms as "%s"', (ms, text) => {
    expect(describeRemaining(ms)).toBe(text);
  });
});
