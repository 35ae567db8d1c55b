import { TopicPattern } from '../router.ts';
import { PATTERNS, type Topics } from '../topics.ts';

/** Who a connection is, decided once when it authenticates. */
export type Role =
  | { readonly kind: 'device' }
  | { readonly kind: 'phone'; readonly username: string }
  | { readonly kind: 'flasher'; readonly username: string };

/**
 * The embedded broker's access rules for one device:
 * - the device's own client may publish and subscribe anywhere under `<prefix>/<deviceId>/`;
 * - a phone may subscribe under `<prefix>/<deviceId>/` only, and publish only what the device listens to from a
 *   phone: commands (`cmd/<name>`, not replies), snippet acks, its presence and its receipts; only the presence
 *   may be retained (a retained command would run again at every reconnection).
 * - a flasher may publish a model bundle's manifest and chunks (`models/ota/<id>/manifest|chunk/<n>`, not
 *   retained) and subscribe under `models/ota/` only: it reads none of the wearer's memories. Whether its model
 *   is installed is the device's decision (a signature by a trusted key), not the broker's.
 * Everything else is refused; the broker logs each refusal.
 */
export class AccessPolicy {
  private readonly ownPrefix: string;
  private readonly command: TopicPattern<typeof PATTERNS.command>;
  private readonly phoneWrites: readonly TopicPattern<string>[];
  private readonly presence: string;
  private readonly flasherWrites: readonly TopicPattern<string>[];
  private readonly otaPrefix: string;

  constructor(topics: Topics) {
    this.ownPrefix = `${topics.root}/`;
    this.command = new TopicPattern(topics.root, PATTERNS.command);
    this.phoneWrites = [PATTERNS.snippetAck, PATTERNS.presence, PATTERNS.receipts].map(
      (p) => new TopicPattern<string>(topics.root, p),
    );
    this.presence = topics.presence;
    this.flasherWrites = [PATTERNS.otaManifest, PATTERNS.otaChunk].map((p) => new TopicPattern<string>(topics.root, p));
    this.otaPrefix = `${topics.root}/models/ota/`;
  }

  mayPublish(role: Role, topic: string, retain: boolean): boolean {
    if (role.kind === 'device') return topic.startsWith(this.ownPrefix);
    if (role.kind === 'flasher') return !retain && this.flasherWrites.some((p) => p.match(topic) !== undefined);
    if (retain && topic !== this.presence) return false;
    const command = this.command.match(topic);
    if (command !== undefined) return command.name !== 'reply' && !command.name.endsWith('/reply');
    return this.phoneWrites.some((p) => p.match(topic) !== undefined);
  }

  maySubscribe(role: Role, filter: string): boolean {
    if (role.kind === 'flasher') return filter.startsWith(this.otaPrefix) && filter.length > this.otaPrefix.length;
    // A filter that starts with the literal `<prefix>/<deviceId>/` cannot match another device's topics, $SYS or
    // a shared subscription: the first two levels carry no wildcard.
    return filter.startsWith(this.ownPrefix) && filter.length > this.ownPrefix.length;
  }
}
