import { describe, it } from 'vitest';
import { EsdbEventStore } from '../../../adapters/eventstoredb/esdb-event-store.ts';
import { eventStoreContract } from '../../contract/event-store.contract.ts';

// The same contract against a real EventStoreDB, whenever one is reachable through ESDB_URL
// (e.g. ESDB_URL='esdb://127.0.0.1:2113?tls=false'). The stand-in cannot prove server-side
// behaviour such as idempotence beyond the wire, so run this before relying on a new server version.
const url = process.env.ESDB_URL;

if (url) {
  eventStoreContract(`EventStoreDB at ${url.replace(/\/\/[^@]*@/, '//***@')}`, async () => {
    const stores: EsdbEventStore[] = [];
    return {
      async connect() {
        const store = EsdbEventStore.fromConnectionString(url);
        stores.push(store);
        return store;
      },
      async dispose() {
        await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
      },
    };
  });
} else {
  describe('event-store contract: real EventStoreDB', () => {
    it.skip('skipped: ESDB_URL is not set (no EventStoreDB server runs on this machine)', () => {});
  });
  console.info('[esdb-real] contract against a real EventStoreDB skipped: set ESDB_URL to run it');
}
