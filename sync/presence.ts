import type { Logger } from 'pino';
import { presenceV1 } from './messages.ts';
import type { InboundMessage } from './router.ts';

/**
 * Whether a phone is listening. Records and chunks go out only while one is: a message published with nobody
 * subscribed is acknowledged by the broker and then lost. Every `online` announcement (the phone sends one on each
 * connection) is a cue to send again whatever the phone has not confirmed, since its session may be gone.
 */
export class PhonePresence {
  private online = false;
  private readonly onlineListeners: (() => void)[] = [];

  constructor(private readonly logger: Logger) {}

  get isOnline(): boolean {
    return this.online;
  }

  onOnline(listener: () => void): void {
    this.onlineListeners.push(listener);
  }

  handle(message: InboundMessage): void {
    let parsed: ReturnType<typeof presenceV1.safeParse>;
    try {
      parsed = presenceV1.safeParse(JSON.parse(message.payload.toString('utf8')));
    } catch {
      this.logger.warn({ topic: message.topic }, 'phone presence is not JSON: ignored');
      return;
    }
    if (!parsed.success) {
      this.logger.warn({ topic: message.topic, issues: parsed.error.issues.length }, 'phone presence invalid: ignored');
      return;
    }
    this.online = parsed.data.online;
    this.logger.info({ online: this.online, clientId: parsed.data.clientId }, 'phone presence');
    if (this.online) for (const listener of this.onlineListeners) listener();
  }

  /** Our own connection dropped: we know nothing about the phone until the broker tells us again. */
  linkLost(): void {
    this.online = false;
  }
}
