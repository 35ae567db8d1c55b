import type { Logger } from 'pino';
import type { Link } from './link.ts';
import { type DeviceStatus, deviceStatusV1, type StatusV1 } from './messages.ts';
import type { Topics } from './topics.ts';

/** The daemon's account of itself (capture state, battery, storage, models in use), asked for at each publish. */
export type StatusProvider = () => DeviceStatus | Promise<DeviceStatus>;

export interface StatusPublisherOptions {
  readonly link: Link;
  readonly topics: Topics;
  readonly provider: StatusProvider;
  readonly syncCounts: () => { pendingRecords: number; openTransfers: number };
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** The last will, and what a clean stop publishes: the retained status says the device is gone. */
export const OFFLINE_STATUS = JSON.stringify({ v: 1, online: false } satisfies StatusV1);

/**
 * Keeps the retained `status` current: on every connection, every `intervalMs`, and after every command (the
 * caller asks for it), so a phone that subscribes sees the device's state at once.
 */
export class StatusPublisher {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: StatusPublisherOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.publishNow(), this.o.intervalMs);
    this.timer.unref();
  }

  async publishNow(): Promise<void> {
    if (!this.o.link.connected) return;
    try {
      await this.o.link.publish(this.o.topics.status, JSON.stringify(await this.current()), { qos: 1, retain: true });
    } catch (error) {
      this.o.logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'status publish failed');
    }
  }

  /** Publishes the offline status before a clean disconnect (a clean disconnect does not fire the last will). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.o.link.connected) return;
    await this.o.link.publish(this.o.topics.status, OFFLINE_STATUS, { qos: 1, retain: true }).catch(() => undefined);
  }

  private async current(): Promise<StatusV1> {
    const base: StatusV1 = { v: 1, online: true, atMs: Date.now(), sync: this.o.syncCounts() };
    let reported: unknown;
    try {
      reported = await this.o.provider();
    } catch (error) {
      this.o.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'status provider failed');
      return base;
    }
    const parsed = deviceStatusV1.safeParse(reported);
    if (!parsed.success) {
      this.o.logger.error({ issues: parsed.error.issues.slice(0, 3) }, 'status provider returned an invalid status');
      return base;
    }
    return { ...base, device: parsed.data };
  }
}
