import { connect, type NatsConnection } from 'nats';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { eventStoreContract } from '../../contract/event-store.contract.ts';
import { startTestNatsServer } from '../../support/nats.ts';

eventStoreContract('JetStream on a real nats-server', async () => {
  const server = await startTestNatsServer();
  const connections: NatsConnection[] = [];
  return {
    async connect() {
      const nc = await connect({ servers: server.url });
      connections.push(nc);
      return JetStreamEventStore.connect(nc);
    },
    async dispose() {
      await Promise.all(connections.map((nc) => nc.close()));
      await server.dispose();
    },
  };
});
