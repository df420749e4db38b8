import { connectNats } from '../infra/nats/connect-nats.ts';

// The raw side of the command benchmark: answers every request on `rawcmd.*` at once with a
// reply of the command reply's shape, from its own process like an aggregate host.

const url = process.argv[2];
if (!url) throw new Error('usage: raw-responder <nats-url>');
const nc = await connectNats(url, { name: 'bench-raw-responder' });
const reply = new TextEncoder().encode(JSON.stringify({ status: 'accepted', revision: '1', events: 1 }));
nc.subscribe('rawcmd.*', { queue: 'raw', callback: (_error, m) => m.respond(reply) });
await nc.flush();
console.log('ready');
process.once('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
