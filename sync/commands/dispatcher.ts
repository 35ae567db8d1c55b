import type { Logger } from 'pino';
import type { Link } from '../link.ts';
import type { InboundMessage } from '../router.ts';
import type { Topics } from '../topics.ts';
import { type Command, type CommandEffects, InvalidRequestError } from './command.ts';
import type { CommandReplyV1, ReplyError } from './reply.ts';

export interface CommandDispatcherOptions {
  readonly commands: ReadonlyMap<string, Command>;
  readonly effects: CommandEffects;
  readonly link: Link;
  readonly topics: Topics;
  readonly maxPayloadBytes: number;
  readonly logger: Logger;
  /** Called after a command ran (the status is republished so the phone sees the new state). */
  readonly afterCommand: () => void;
}

export interface CommandStats {
  readonly ok: number;
  readonly failed: number;
  readonly refused: number;
}

/**
 * Runs `cmd/<name>` requests one at a time, in arrival order, and answers each on `cmd/<name>/reply` with its
 * correlation id (in the payload; also as MQTT 5 correlation data when the request carried some). A request that
 * is too large, not JSON, for an unknown command or not valid for its schema gets an error reply and reaches no
 * effect, so it changes nothing.
 */
export class CommandDispatcher {
  private queue: Promise<void> = Promise.resolve();
  private readonly counters = { ok: 0, failed: 0, refused: 0 };

  constructor(private readonly o: CommandDispatcherOptions) {}

  handle(name: string, message: InboundMessage): void {
    if (name === 'reply' || name.endsWith('/reply')) return; // a reply (ours, echoed back on MQTT 3.1.1)
    if (message.retain) {
      // A retained command would run again at every reconnection: refuse it without acting on it.
      this.o.logger.warn({ command: name }, 'retained command ignored');
      return;
    }
    this.queue = this.queue.then(() => this.execute(name, message));
  }

  /** Resolves once every command received so far has been answered. */
  idle(): Promise<void> {
    return this.queue;
  }

  stats(): CommandStats {
    return { ...this.counters };
  }

  private async execute(name: string, message: InboundMessage): Promise<void> {
    const { payload } = message;
    if (payload.length > this.o.maxPayloadBytes) {
      return this.refuse(name, null, message, 'too_large', `${payload.length} bytes > ${this.o.maxPayloadBytes}`);
    }
    let request: unknown;
    try {
      request = JSON.parse(payload.toString('utf8'));
    } catch {
      return this.refuse(name, null, message, 'malformed_json', 'the request is not JSON');
    }
    const correlationId = correlationIdOf(request);
    const command = this.o.commands.get(name);
    if (command === undefined)
      return this.refuse(name, correlationId, message, 'unknown_command', `no command ${name}`);
    const prepared = command.prepare(request);
    if ('error' in prepared) return this.refuse(name, correlationId, message, 'invalid', prepared.error);
    try {
      const result = await prepared.run(this.o.effects);
      this.counters.ok++;
      this.o.logger.info({ command: name, correlationId }, 'command done');
      await this.reply(name, message, {
        v: 1,
        command: name,
        correlationId,
        ok: true,
        ...(result === undefined ? {} : { result }),
      });
      this.o.afterCommand();
    } catch (error) {
      if (error instanceof InvalidRequestError)
        return this.refuse(name, correlationId, message, 'invalid', error.message);
      this.counters.failed++;
      const text = error instanceof Error ? error.message : String(error);
      this.o.logger.error({ command: name, correlationId, err: text }, 'command failed');
      await this.reply(name, message, errorReply(name, correlationId, 'failed', text));
    }
  }

  private async refuse(
    name: string,
    correlationId: string | null,
    message: InboundMessage,
    code: ReplyError,
    text: string,
  ): Promise<void> {
    this.counters.refused++;
    this.o.logger.warn({ command: name, correlationId, code, reason: text }, 'command refused');
    await this.reply(name, message, errorReply(name, correlationId, code, text));
  }

  private async reply(name: string, request: InboundMessage, reply: CommandReplyV1): Promise<void> {
    await this.o.link
      .publish(this.o.topics.reply(name), JSON.stringify(reply), {
        qos: 1,
        ...(request.correlationData ? { correlationData: request.correlationData } : {}),
      })
      .catch((error: Error) => this.o.logger.warn({ command: name, err: error.message }, 'command reply not sent'));
  }
}

function errorReply(command: string, correlationId: string | null, code: ReplyError, message: string): CommandReplyV1 {
  return { v: 1, command, correlationId, ok: false, error: { code, message } };
}

function correlationIdOf(request: unknown): string | null {
  if (typeof request !== 'object' || request === null || !('correlationId' in request)) return null;
  const id = request.correlationId;
  return typeof id === 'string' && id.length <= 128 ? id : null;
}
