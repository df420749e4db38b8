/** Where a registered task type runs and how long it may take; shared by the chat intake and the workflow engine. */
export interface TaskRoute {
  readonly pool: string;
  readonly timeoutMs: number;
}
