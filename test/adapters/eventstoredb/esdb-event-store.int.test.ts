import { EsdbEventStore } from '../../../adapters/eventstoredb/esdb-event-store.ts';
import { eventStoreContract } from '../../contract/event-store.contract.ts';
import { startEsdbStandIn } from '../../support/esdb-standin.ts';

// The EventStoreDB adapter against the wire-level stand-in (a test fixture, not a server).
// The same contract runs against a real EventStoreDB in esdb-real.int.test.ts when ESDB_URL is set.
eventStoreContract('EventStoreDB adapter against the gRPC stand-in', async () => {
  const standIn = await startEsdbStandIn();
  const stores: EsdbEventStore[] = [];
  return {
    async connect() {
      const store = EsdbEventStore.fromConnectionString(standIn.connectionString);
      stores.push(store);
      return store;
    },
    async dispose() {
      await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      await standIn.stop();
    },
  };
});
