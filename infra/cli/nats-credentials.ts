import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import { readCredential } from '../nats/embedded-credentials.ts';
import { CONSUMER_USER, inboxPrefixOf, producerUser } from '../nats/embedded-identities.ts';
import { embeddedUrlFile } from './connect.ts';
import { UserError } from './user-error.ts';

// `orch nats credentials [consumer | producer <name>]`: what an outside consumer or command
// producer needs to connect to the embedded server. The password is a secret: it goes to
// stdout only, with a warning on stderr, and never into a log.

export function registerNatsCommands(cli: Command): void {
  const nats = cli.command('nats').description('the NATS identities of the embedded server');
  nats
    .command('credentials')
    .description('URL, user and password for an outside consumer (default) or command producer (secret: share with care)')
    .argument('[identity]', 'consumer or producer', 'consumer')
    .argument('[name]', 'the producer name (one of NATS_API_PRODUCERS, default api)')
    .option('--json', 'one JSON object')
    .action(async (identity: string, name: string | undefined, options: { json?: boolean }) => {
      const config = loadConfig();
      if (!config.nats.embedded)
        throw new UserError('NATS_URL is set: credentials come from whoever runs that NATS server (see the README, "NATS identities"), not from the product');
      if (identity !== 'consumer' && identity !== 'producer') throw new UserError(`identity must be "consumer" or "producer <name>", not "${identity}"`);
      const producer = identity === 'producer' ? (name ?? 'api') : undefined;
      if (producer !== undefined && !config.nats.apiProducers.includes(producer))
        throw new UserError(`no producer "${producer}"; NATS_API_PRODUCERS names ${config.nats.apiProducers.join(', ')}`);
      const urlFile = embeddedUrlFile(config.dataDir);
      const user = producer === undefined ? CONSUMER_USER : producerUser(producer);
      const credential = await readCredential(path.dirname(urlFile), user);
      if (!credential)
        throw new UserError(`no credentials for ${user} yet: start the product once with "npm start" (they are generated under ${path.dirname(urlFile)})`);
      const url = (await readFile(urlFile, 'utf8').catch(() => undefined))?.trim();
      const { streamName, subjectPrefix } = publicEventNames(config.prefix);
      const may =
        producer === undefined
          ? `subscribe ${subjectPrefix}.>; read the JetStream stream ${streamName} with consumers of your own`
          : `send commands on ${config.prefix}.api.${producer}.cmd.<category>.<id> (recorded with actor api:${producer})`;
      const shown = { url: url ?? null, user: credential.user, password: credential.password, inboxPrefix: inboxPrefixOf(user), may };
      console.error(`orch: the password below is a secret: give it only to whoever runs this ${identity}, and never paste it into a chat or a log.`);
      if (options.json) return console.log(JSON.stringify(shown, null, 2));
      console.log(`url:          ${url ?? '(the product is not running; the port changes at each start)'}`);
      console.log(`user:         ${shown.user}`);
      console.log(`password:     ${shown.password}`);
      console.log(`inbox prefix: ${shown.inboxPrefix}   (nats.js: inboxPrefix; nats CLI: --inbox-prefix)`);
      console.log(`may:          ${may}`);
    });
}
