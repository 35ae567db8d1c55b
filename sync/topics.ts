/**
 * Every topic of one device, built in one place (sync/README.md lists them). Inbound topics are matched with
 * the patterns in `PATTERNS` through the router, never by splitting strings elsewhere.
 */
export class Topics {
  readonly root: string;

  constructor(
    readonly prefix: string,
    readonly deviceId: string,
  ) {
    this.root = `${prefix}/${deviceId}`;
  }

  /** Retained device status; the last will sets it offline. */
  get status(): string {
    return `${this.root}/status`;
  }

  event(kind: string): string {
    return `${this.root}/events/${kind}`;
  }

  manifest(transferId: string): string {
    return `${this.root}/snippets/${transferId}/manifest`;
  }

  chunk(transferId: string, index: number): string {
    return `${this.root}/snippets/${transferId}/chunk/${index}`;
  }

  snippetAck(transferId: string): string {
    return `${this.root}/snippets/${transferId}/ack`;
  }

  command(name: string): string {
    return `${this.root}/cmd/${name}`;
  }

  reply(commandName: string): string {
    return `${this.root}/cmd/${commandName}/reply`;
  }

  /** The phone announces itself here (retained, with a last will saying it left). */
  get presence(): string {
    return `${this.root}/phone/presence`;
  }

  /** The phone confirms the event records it has stored. */
  get receipts(): string {
    return `${this.root}/phone/receipts`;
  }

  /** Models over the air: the flasher sends `manifest` and `chunk/<n>`, the device answers `ack` and `result`. */
  ota(otaId: string, leaf: 'manifest' | 'ack' | 'result'): string {
    return `${this.root}/models/ota/${otaId}/${leaf}`;
  }

  otaChunk(otaId: string, index: number): string {
    return `${this.root}/models/ota/${otaId}/chunk/${index}`;
  }

  /** What the device subscribes to. */
  get deviceFilters(): string[] {
    return [
      `${this.root}/cmd/#`,
      `${this.root}/snippets/+/ack`,
      this.presence,
      this.receipts,
      `${this.root}/models/ota/+/manifest`,
      `${this.root}/models/ota/+/chunk/+`,
    ];
  }

  /** What a flasher subscribes to while it sends one bundle. */
  flasherFilters(otaId: string): string[] {
    return [this.ota(otaId, 'ack'), this.ota(otaId, 'result')];
  }

  /** What a phone (the reference receiver) subscribes to. */
  get phoneFilters(): string[] {
    return [
      this.status,
      `${this.root}/events/+`,
      `${this.root}/snippets/+/manifest`,
      `${this.root}/snippets/+/chunk/+`,
      `${this.root}/cmd/+/reply`,
      `${this.root}/cmd/+/+/reply`,
    ];
  }
}

/** Inbound patterns, relative to a device's root. */
export const PATTERNS = {
  command: 'cmd/*name',
  snippetAck: 'snippets/:transferId/ack',
  presence: 'phone/presence',
  receipts: 'phone/receipts',
  event: 'events/:kind',
  manifest: 'snippets/:transferId/manifest',
  chunk: 'snippets/:transferId/chunk/:index',
  status: 'status',
  otaManifest: 'models/ota/:otaId/manifest',
  otaChunk: 'models/ota/:otaId/chunk/:index',
  otaAck: 'models/ota/:otaId/ack',
  otaResult: 'models/ota/:otaId/result',
} as const;

const TOPIC_LEVEL = /^[A-Za-z0-9_-]{1,64}$/;

/** Event kinds and transfer ids become one topic level each. */
export function isTopicLevel(value: string): boolean {
  return TOPIC_LEVEL.test(value);
}
