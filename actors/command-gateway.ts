import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { isValidId } from '../domain/streams.ts';
import { MAX_COMMAND_BYTES } from './runtime/aggregate-host.ts';
import { CommandTimedOut, NoAggregateHost, type CommandClient } from './runtime/command-client.ts';
import { commandEnvelopeSchema, describeIssues, type CommandReply } from './runtime/command-envelope.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './runtime/json-depth.ts';

// The door for outside command producers: `<prefix>.api.<producer>.cmd.<category>.<id>`.
// NATS permissions let only the identity `producer-<name>` publish under `<prefix>.api.<name>.>`,
// so the subject names the producer, and the command is recorded with actor `api:<name>`
// whatever the payload says. Only the commands of the outside API are let through, each after
// the authorization hook; everything is checked here, before an aggregate sees it. Every
// refusal is a reply with a code; nothing a producer sends can stop the gateway.

/** Commands an outside producer may send, per aggregate category. */
export const OUTSIDE_API_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  workflow: ['StartWorkflow', 'CancelWorkflow', 'GrantApproval', 'RejectApproval'],
  task: ['QueueTask', 'CancelTask'],
};

export interface GatewayRequest {
  /** `api:<producer>`. */
  readonly actor: string;
  readonly category: string;
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** Allowed, under the policy rule recorded on the command's events, or refused with a named reason. */
export type GatewayDecision = { readonly allowed: true; readonly rule?: string } | { readonly allowed: false; readonly code: string; readonly message: string };

export type AuthorizeOutsideCommand = (request: GatewayRequest) => GatewayDecision;

/** Until a policy is wired: outside producers may not decide approvals, which only verified people do. */
export const refuseApprovalsFromApi: AuthorizeOutsideCommand = (request) =>
  request.type === 'GrantApproval' || request.type === 'RejectApproval'
    ? {
        allowed: false,
        code: 'NotAuthorized',
        message: `${request.actor} may not ${request.type === 'GrantApproval' ? 'grant' : 'reject'} approvals; approvals come from people a front end verified`,
      }
    : { allowed: true };

export interface CommandGatewayOptions {
  readonly nc: NatsConnection;
  readonly commands: CommandClient;
  /** Categories hosted by the aggregates role; others are refused as UnknownCategory. */
  readonly categories: readonly string[];
  readonly logger: Logger;
  readonly prefix?: string;
  readonly authorize?: AuthorizeOutsideCommand;
  /** Which commands producers may send; default OUTSIDE_API_COMMANDS. */
  readonly allowed?: Readonly<Record<string, readonly string[]>>;
}

type Refusal = Extract<CommandReply, { status: 'rejected' }>;
const refuse = (code: string, message: string): Refusal => ({ status: 'rejected', code, message });

/** Commands whose requester field the gateway fills from the credential. */
const REQUESTER_FIELD: Readonly<Record<string, string>> = { StartWorkflow: 'requestedBy', QueueTask: 'requestedBy' };

export class CommandGateway {
  private subscription: Subscription | undefined;
  private readonly prefix: string;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: CommandGatewayOptions) {
    this.prefix = options.prefix ?? 'orch';
  }

  get subject(): string {
    return `${this.prefix}.api.>`;
  }

  start(): void {
    this.subscription = this.options.nc.subscribe(this.subject, {
      queue: `${this.prefix}.command-gateway`,
      callback: (error, message) => {
        if (error) {
          this.options.logger.error({ err: error }, 'command gateway subscription failed');
          return;
        }
        const done = this.receive(message)
          .catch((failure: unknown) => this.options.logger.error({ err: failure, subject: message.subject }, 'outside command could not be answered'))
          .finally(() => this.pending.delete(done));
        this.pending.add(done);
      },
    });
  }

  /** Stops taking commands and waits for those already taken to be answered. */
  async stop(): Promise<void> {
    await this.subscription?.drain();
    await Promise.all(this.pending);
  }

  private async receive(message: Msg): Promise<void> {
    const reply = await this.handle(message).catch((error: unknown): CommandReply => {
      this.options.logger.error({ err: error, subject: message.subject }, 'outside command failed');
      return { status: 'failed', code: 'Internal', message: 'the command could not be processed; retry with the same commandId' };
    });
    if (reply.status !== 'accepted')
      this.options.logger.info(
        { subject: message.subject, status: reply.status, code: 'code' in reply ? reply.code : undefined },
        'outside command not accepted',
      );
    if (message.reply) message.respond(new TextEncoder().encode(JSON.stringify(reply)));
  }

  private async handle(message: Msg): Promise<CommandReply> {
    // <prefix>.api.<producer>.cmd.<category>.<id>
    const tokens = message.subject.slice(`${this.prefix}.api.`.length).split('.');
    const [producer, verb, category, id] = tokens;
    if (tokens.length !== 4 || verb !== 'cmd' || !producer || !category || !id)
      return refuse('InvalidCommand', `send commands to ${this.prefix}.api.<producer>.cmd.<category>.<id>, not ${message.subject}`);
    if (!this.options.categories.includes(category))
      return refuse('UnknownCategory', `no aggregate of category "${category}"; categories: ${this.options.categories.join(', ')}`);
    if (!isValidId(id)) return refuse('InvalidCommand', `"${id}" is not a valid aggregate id`);
    if (message.data.length > MAX_COMMAND_BYTES)
      return refuse('PayloadTooLarge', `the command is ${message.data.length} bytes; at most ${MAX_COMMAND_BYTES} are accepted`);

    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(message.data));
    } catch {
      return refuse('InvalidCommand', 'the body is not JSON');
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) return refuse('PayloadTooDeep', `the command nests deeper than ${MAX_JSON_DEPTH} levels`);
    const actor = `api:${producer}`;
    // The actor comes from the credential, never from the payload.
    const withActor = typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, actor } : body;
    const envelope = commandEnvelopeSchema.safeParse(withActor);
    if (!envelope.success) return refuse('InvalidCommand', describeIssues(envelope.error).join('; '));
    const { type, commandId, correlationId, causationId } = envelope.data;
    // Who asks for work is the credential too (approvers and cancels are bound by the aggregate host).
    const data = REQUESTER_FIELD[type] ? { ...envelope.data.data, [REQUESTER_FIELD[type]]: actor } : envelope.data.data;

    const allowed = (this.options.allowed ?? OUTSIDE_API_COMMANDS)[category] ?? [];
    if (!allowed.includes(type))
      return refuse(
        'CommandNotAllowed',
        `${type} on ${category} is not part of the outside command API${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      );
    const decision = (this.options.authorize ?? refuseApprovalsFromApi)({ actor, category, id, type, data });
    if (!decision.allowed) return refuse(decision.code, decision.message);

    // A producer's command ids live in their own space: one could otherwise take an id the
    // product's process managers derive, and the aggregate would answer theirs as a repeat.
    const forwardedId = `api-${producer}-${commandId}`;
    if (!isValidId(forwardedId)) return refuse('InvalidCommand', `commandId: must be at most ${200 - `api-${producer}-`.length} characters`);
    try {
      return await this.options.commands.forward(
        { category, id },
        {
          commandId: forwardedId,
          type,
          data,
          actor,
          ...(decision.rule !== undefined && { authorization: decision.rule }),
          correlationId: correlationId ?? forwardedId,
          causationId: causationId ?? forwardedId,
        },
      );
    } catch (error) {
      if (error instanceof NoAggregateHost)
        return { status: 'failed', code: 'NoAggregateHost', message: `no host is taking ${category} commands right now; retry with the same commandId` };
      if (error instanceof CommandTimedOut)
        return { status: 'failed', code: 'Timeout', message: 'no answer in time; it may still have been applied — retry with the same commandId' };
      throw error;
    }
  }
}
