import type { Mat } from '../../device/opencv.ts';
import type { CropWindow } from './clip-writer.ts';

export interface BufferedFrame {
  readonly mat: Mat;
  readonly tNs: bigint;
  readonly gaze: { x: number; y: number; confidence: number } | null;
  readonly score: number;
  readonly window?: CropWindow;
}

/**
 * The pre-capture buffer: the last `seconds` of scene frames, already scaled to the clip size so that it costs
 * a few megabytes, not a full-resolution history. It owns its frames and frees those that age out.
 */
export class PreCaptureBuffer {
  private frames: BufferedFrame[] = [];
  private readonly spanNs: bigint;

  constructor(seconds: number) {
    this.spanNs = BigInt(Math.round(seconds * 1e9));
  }

  push(frame: BufferedFrame): void {
    this.frames.push(frame);
    while (this.frames.length > 0 && frame.tNs - (this.frames[0] as BufferedFrame).tNs > this.spanNs) {
      this.frames.shift()?.mat.release();
    }
  }

  /** Hands over (and forgets) the buffered frames at or after `fromNs`; older ones are freed. */
  drainFrom(fromNs: bigint): BufferedFrame[] {
    const taken = this.frames.filter((f) => f.tNs >= fromNs);
    for (const f of this.frames) if (f.tNs < fromNs) f.mat.release();
    this.frames = [];
    return taken;
  }

  clear(): void {
    for (const f of this.frames) f.mat.release();
    this.frames = [];
  }
}
