import { parse as parseUuid, v5 as uuidv5 } from 'uuid';

// Event ids are derived from the command that caused them, so a retried command yields
// the same ids and the store can recognise the retry instead of appending twice.
// The namespace is parsed once: uuid re-parses a string namespace on every call.
const EVENT_ID_NAMESPACE = parseUuid('6f1c1f0e-7a2e-4b4e-9a57-2c0c7c1e5d10');

export const eventIdFor = (stream: string, commandId: string, index: number): string => uuidv5(`${stream}\u0000${commandId}\u0000${index}`, EVENT_ID_NAMESPACE);
