/**
 * Inbound MQTT messages go through a table of typed handlers: a route is a pattern under the device's root
 * (`snippets/:transferId/ack`, `cmd/*name`), and its handler receives the named levels, typed from the pattern.
 * Topic strings are taken apart here and nowhere else.
 */

export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  /** True when the broker delivered a retained message because of a new subscription (not a live one). */
  readonly retain: boolean;
  /** MQTT 5 only. */
  readonly correlationData?: Buffer;
  readonly userProperties?: Readonly<Record<string, string | string[]>>;
}

type SegmentName<S extends string> = S extends `:${infer N}` ? N : S extends `*${infer N}` ? N : never;
type Names<P extends string> = P extends `${infer Head}/${infer Tail}`
  ? SegmentName<Head> | Names<Tail>
  : SegmentName<P>;
/** `':a/x/*b'` → `{ a: string; b: string }`: a `:name` matches one level, a final `*name` one or more. */
export type RouteParams<P extends string> = { readonly [K in Names<P>]: string };

/** A topic pattern under a root (`<prefix>/<deviceId>`). */
export class TopicPattern<P extends string> {
  private readonly prefix: string;
  private readonly segments: readonly string[];

  constructor(root: string, pattern: P) {
    this.prefix = `${root}/`;
    this.segments = pattern.split('/');
    if (this.segments.slice(0, -1).some((s) => s.startsWith('*'))) {
      throw new Error(`${pattern}: * only as the last level`);
    }
  }

  match(topic: string): RouteParams<P> | undefined {
    if (!topic.startsWith(this.prefix)) return undefined;
    const levels = topic.slice(this.prefix.length).split('/');
    if (levels.some((l) => l === '')) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i] as string;
      const level = levels[i];
      if (level === undefined) return undefined;
      if (segment.startsWith('*')) {
        params[segment.slice(1)] = levels.slice(i).join('/');
        return params as RouteParams<P>;
      }
      if (segment.startsWith(':')) params[segment.slice(1)] = level;
      else if (segment !== level) return undefined;
    }
    // `params` holds exactly the names the pattern declares, which is what RouteParams<P> computes from it.
    return levels.length === this.segments.length ? (params as RouteParams<P>) : undefined;
  }
}

export type RouteHandler<P extends string> = (message: InboundMessage, params: RouteParams<P>) => void;

interface Route {
  readonly dispatch: (message: InboundMessage) => boolean;
}

export class TopicRouter {
  private readonly routes: Route[] = [];

  constructor(private readonly root: string) {}

  on<P extends string>(pattern: P, handler: RouteHandler<P>): this {
    const compiled = new TopicPattern(this.root, pattern);
    this.routes.push({
      dispatch: (message) => {
        const params = compiled.match(message.topic);
        if (params === undefined) return false;
        handler(message, params);
        return true;
      },
    });
    return this;
  }

  /** Routes a message to the first matching handler; false when none matched (the caller logs it). */
  dispatch(message: InboundMessage): boolean {
    return this.routes.some((route) => route.dispatch(message));
  }
}
