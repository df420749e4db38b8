import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { CONSUMER_USER, producerUser, SERVICE_USER } from './embedded-identities.ts';

// The embedded server's passwords: generated once (crypto random), kept in
// DATA_DIR/nats/credentials.json (0600, folder 0700) and reused on every start, so outside
// clients keep working across restarts. The server's own config holds only their bcrypt hashes.

export const credentialsFile = (storeDir: string): string => path.join(storeDir, 'credentials.json');

export interface IdentityCredential {
  readonly user: string;
  readonly password: string;
}

const storedIdentity = z.object({ password: z.string().min(16), bcrypt: z.string().regex(/^\$2[aby]\$\d\d\$/) });
const storedCredentials = z.object({ version: z.literal(1), identities: z.record(z.string(), storedIdentity) });
type StoredCredentials = z.infer<typeof storedCredentials>;

export class EmbeddedCredentialsUnreadable extends Error {
  override readonly name = 'EmbeddedCredentialsUnreadable';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file} ${reason}; fix it, or delete it to generate new NATS credentials (outside clients then need the new ones)`);
  }
}

/** Cost 10: about 50 ms per password here and per connection in nats-server; passwords are long and random. */
const BCRYPT_COST = 10;

export interface EmbeddedCredentials {
  /** Every identity's user and bcrypt hash, for the server's config. */
  readonly hashes: ReadonlyMap<string, string>;
  readonly service: IdentityCredential;
}

/**
 * Reads or creates the passwords of `users`, keeping those already there; identities no longer
 * wanted (a producer removed from NATS_API_PRODUCERS) are dropped and can no longer connect.
 */
export async function loadOrCreateCredentials(storeDir: string, users: readonly string[]): Promise<EmbeddedCredentials> {
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  await chmod(storeDir, 0o700);
  const file = credentialsFile(storeDir);
  const existing = await readStored(file);
  const identities: StoredCredentials['identities'] = {};
  for (const user of users) {
    const known = existing?.identities[user];
    if (known) {
      identities[user] = known;
      continue;
    }
    const password = randomBytes(24).toString('base64url');
    identities[user] = { password, bcrypt: await bcrypt.hash(password, BCRYPT_COST) };
  }
  const stored: StoredCredentials = { version: 1, identities };
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return {
    hashes: new Map(Object.entries(identities).map(([user, i]) => [user, i.bcrypt])),
    service: { user: SERVICE_USER, password: identities[SERVICE_USER]!.password },
  };
}

/** One identity's credential from the file a running (or earlier) embedded server keeps; undefined when there is none. */
export async function readCredential(storeDir: string, user: string): Promise<IdentityCredential | undefined> {
  const stored = await readStored(credentialsFile(storeDir));
  const identity = stored?.identities[user];
  return identity ? { user, password: identity.password } : undefined;
}

/** The user name of an identity asked for by role: `service`, `consumer` or `producer <name>`. */
export const userFor = (identity: 'service' | 'consumer' | { producer: string }): string =>
  identity === 'service' ? SERVICE_USER : identity === 'consumer' ? CONSUMER_USER : producerUser(identity.producer);

async function readStored(file: string): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmbeddedCredentialsUnreadable(file, `could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EmbeddedCredentialsUnreadable(file, 'is not JSON');
  }
  const parsed = storedCredentials.safeParse(json);
  if (!parsed.success)
    throw new EmbeddedCredentialsUnreadable(
      file,
      `is not a credentials file of this product (${parsed.error.issues[0]?.path.join('.') || 'file'}: ${parsed.error.issues[0]?.message})`,
    );
  return parsed.data;
}
