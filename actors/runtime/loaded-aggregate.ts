import type { ActualRevision, GlobalPosition } from '../../domain/ports/event-store.ts';

// An aggregate as a host holds it between commands: its state, where its stream ends, and
// the command ids already applied, so a retried command is answered instead of run twice.

export interface LoadedAggregate<State> {
  readonly state: State;
  readonly revision: ActualRevision;
  /** Command ids already applied to this aggregate, with the revision they produced. Only its mailbox touches it. */
  readonly commands: Map<string, AppliedCommand>;
  /** Position and id of the event at `revision`: what a snapshot of this state records. */
  readonly last?: { readonly position: GlobalPosition; readonly eventId: string };
  /** Revision covered by the newest snapshot this host knows of. */
  readonly snapshotRevision?: bigint;
}

export interface AppliedCommand {
  readonly revision: bigint;
  readonly events: number;
}

/** How many command ids are remembered per aggregate, oldest forgotten first. */
export const REMEMBERED_COMMANDS = 1_000;

export function rememberCommand(commands: Map<string, AppliedCommand>, commandId: string, revision: bigint, events: number): void {
  commands.set(commandId, { revision, events });
  for (const key of commands.keys()) {
    if (commands.size <= REMEMBERED_COMMANDS) return;
    commands.delete(key);
  }
}
