/** Time comes from outside the domain: actors stamp commands with it, tests pin it. */
export interface Clock {
  /** ISO-8601 with milliseconds, UTC. */
  now(): string;
}
