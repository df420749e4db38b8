import type { Clock } from '../domain/ports/clock.ts';

/** The wall clock; lives outside domain/ so the domain stays free of time. */
export const systemClock: Clock = { now: () => new Date().toISOString() };
