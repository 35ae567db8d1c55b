import type { SourceStatus } from '../cameras/source.ts';
import type { FrameFeed } from '../feed.ts';
import type { Frame, StreamName } from '../frames.ts';
import { readSessionManifest, type SessionManifest, sessionStreams } from './format.ts';
import { ReplayStream } from './replay-stream.ts';

export type Pace = 'realtime' | 'fast';

/**
 * A recorded session played back as one stream of frames in capture-time order, as the live cameras would have
 * delivered them. In `realtime` pace a frame is released when as much wall time has passed as capture time did.
 */
export class SessionReplay implements FrameFeed {
  readonly manifest: SessionManifest;
  readonly streams: readonly StreamName[];
  readonly label: string;
  private readonly decoders: ReplayStream[];
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly pace: Pace = 'fast',
  ) {
    this.manifest = readSessionManifest(dir);
    const files = sessionStreams(dir, this.manifest);
    this.streams = files.map((f) => f.stream);
    this.label = dir;
    this.decoders = [];
    try {
      for (const f of files) this.decoders.push(ReplayStream.open(f));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Frames expected per stream, from the timestamp files. */
  expectedFrames(): Record<string, number> {
    return Object.fromEntries(this.decoders.map((s) => [s.stream, s.frameCount]));
  }

  status(): SourceStatus[] {
    return this.decoders.map((s) => s.status());
  }

  /** A replay never drops: the pipeline sets the pace. */
  dropped(): number {
    return 0;
  }

  async *frames(): AsyncGenerator<Frame> {
    const heads = this.decoders.map((s) => s.next());
    let t0: bigint | undefined;
    const wall0 = process.hrtime.bigint();
    while (!this.stopped) {
      let pick = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        const best = pick >= 0 ? heads[pick] : undefined;
        if (h && (best === undefined || best === null || h.tNs < best.tNs)) pick = i;
      }
      const frame = pick >= 0 ? heads[pick] : undefined;
      if (frame === undefined || frame === null) return;
      t0 ??= frame.tNs;
      if (this.pace === 'realtime') await sleepUntil(wall0 + (frame.tNs - t0));
      heads[pick] = (this.decoders[pick] as ReplayStream).next();
      yield frame;
    }
  }

  close(): void {
    this.stopped = true;
    for (const s of this.decoders) s.close();
  }
}

async function sleepUntil(wallNs: bigint): Promise<void> {
  const waitMs = Number(wallNs - process.hrtime.bigint()) / 1e6;
  if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
}
