import type { CameraConfig } from '../config.ts';
import type { FrameFeed } from '../feed.ts';
import type { Frame, StreamName } from '../frames.ts';
import { FrameQueue, feedQueues } from './frame-queue.ts';
import { OpenCvCameraSource } from './opencv-source.ts';
import type { SourceStatus } from './source.ts';
import type { Backoff, SupervisorLogger } from './supervisor.ts';

export interface LiveFeedOptions {
  readonly cameras: Partial<Record<StreamName, CameraConfig>>;
  readonly queueDepth: number;
  readonly backoff: Backoff;
  readonly logger: SupervisorLogger;
}

/**
 * The live cameras as one stream of frames. Each camera runs free under its own supervisor into its own bounded
 * queue, so a slow or failed camera never holds the others back; frames come out in arrival order, which is
 * capture order up to a frame's read latency.
 */
export class LiveFeed implements FrameFeed {
  readonly streams: StreamName[];
  private readonly sources: OpenCvCameraSource[];
  private readonly queues: FrameQueue<Frame>[];

  constructor(options: LiveFeedOptions) {
    const entries = Object.entries(options.cameras) as Array<[StreamName, CameraConfig]>;
    this.streams = entries.map(([stream]) => stream);
    this.sources = entries.map(
      ([stream, cam]) =>
        new OpenCvCameraSource(
          { stream, uri: cam.uri, width: cam.width, height: cam.height, fps: cam.fps },
          { backoff: options.backoff, logger: options.logger },
        ),
    );
    this.queues = this.sources.map(() => new FrameQueue<Frame>(options.queueDepth, (f) => f.mat.release()));
  }

  get label(): string {
    return `live:${this.streams.join(',')}`;
  }

  dropped(stream: StreamName): number {
    const i = this.streams.indexOf(stream);
    return i < 0 ? 0 : (this.queues[i]?.dropped ?? 0);
  }

  status(): SourceStatus[] {
    return this.sources.map((s) => s.status());
  }

  async *frames(): AsyncGenerator<Frame> {
    const feeding = this.sources.map((s, i) => feedQueues(s.frames(), [this.queues[i] as FrameQueue<Frame>]));
    type Next = { i: number; r: IteratorResult<Frame, undefined> };
    const pull = (i: number): Promise<Next> => (this.queues[i] as FrameQueue<Frame>).next().then((r) => ({ i, r }));
    const pending = new Map<number, Promise<Next>>(this.queues.map((_, i) => [i, pull(i)]));
    try {
      while (pending.size > 0) {
        const { i, r } = await Promise.race(pending.values());
        if (r.done) {
          pending.delete(i);
          continue;
        }
        pending.set(i, pull(i));
        yield r.value;
      }
    } finally {
      this.close();
      await Promise.allSettled(feeding);
    }
  }

  close(): void {
    for (const s of this.sources) s.close();
    for (const q of this.queues) q.close();
  }
}
