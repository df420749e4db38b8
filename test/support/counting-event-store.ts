import type { EventStore, ReadStreamOptions } from '../../domain/ports/event-store.ts';
import type { StreamName } from '../../domain/streams.ts';

// A real event store seen through a counter: every stream read is noted with who read (the label
// of the wrapper the component was given) and whether it read the whole stream (forward, from
// the start, with no bound) or a bounded part (the last event, a tail after a snapshot).
// Everything else passes through untouched.

export interface StreamRead {
  readonly reader: string;
  readonly stream: StreamName;
  readonly whole: boolean;
}

export class StreamReadLog {
  readonly reads: StreamRead[] = [];

  /** `store` as `reader` sees it: its reads are noted here. */
  storeFor(reader: string, store: EventStore): EventStore {
    const note = (stream: StreamName, options: ReadStreamOptions | undefined) =>
      this.reads.push({ reader, stream, whole: options?.maxCount === undefined && (options?.fromRevision ?? 0n) === 0n && options?.direction !== 'backward' });
    return {
      append: (stream, events, expected) => store.append(stream, events, expected),
      read: (stream, options) => {
        note(stream, options);
        return store.read(stream, options);
      },
      readAll: (options) => store.readAll(options),
      subscribe: (options) => store.subscribe(options),
      headPosition: (options) => store.headPosition(options),
      close: () => store.close(),
    };
  }

  wholeStreamReadsBy(predicate: (reader: string) => boolean): readonly StreamRead[] {
    return this.reads.filter((r) => r.whole && predicate(r.reader));
  }

  clear(): void {
    this.reads.length = 0;
  }
}
