import type { GlobalPosition } from './event-store.ts';

/** Where a subscriber (process manager, projection) resumes after a restart. */
export interface CheckpointStore {
  load(name: string): Promise<GlobalPosition | undefined>;
  save(name: string, position: GlobalPosition): Promise<void>;
}
