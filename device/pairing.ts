import type { Frame } from './frames.ts';

export interface EyeRef {
  readonly index: number;
  readonly tNs: bigint;
}

/** A scene frame with, for each eye, the frame captured nearest to it in time (or null if none is close enough). */
export interface PairedScene {
  readonly scene: Frame;
  readonly eye0: EyeRef | null;
  readonly eye1: EyeRef | null;
}

type Eye = 'eye0' | 'eye1';

/**
 * Pairs free-running eye and scene streams by time. Frames must arrive in capture-time order (as replay and the
 * live merger deliver them). A scene frame is held until each eye stream has produced a frame at or after it —
 * only then is the nearest eye frame known — or until that eye is declared ended.
 */
export class FramePairer {
  private readonly last: Record<Eye, EyeRef | null> = { eye0: null, eye1: null };
  private readonly active: Record<Eye, boolean>;
  private pending: Array<{ scene: Frame; eye0?: EyeRef | null; eye1?: EyeRef | null }> = [];
  private readonly maxSkewNs: bigint;

  constructor(eyes: readonly Eye[], maxSkewMs: number) {
    this.active = { eye0: eyes.includes('eye0'), eye1: eyes.includes('eye1') };
    this.maxSkewNs = BigInt(Math.round(maxSkewMs * 1e6));
  }

  /** Feeds one frame; returns the scene frames whose pairing is now decided. */
  push(frame: Frame): PairedScene[] {
    if (frame.stream === 'scene') {
      this.pending.push({ scene: frame });
      return this.settle();
    }
    const eye = frame.stream;
    const current: EyeRef = { index: frame.index, tNs: frame.tNs };
    for (const p of this.pending) {
      if (p[eye] === undefined && frame.tNs >= p.scene.tNs) p[eye] = this.nearest(p.scene.tNs, this.last[eye], current);
    }
    this.last[eye] = current;
    return this.settle();
  }

  /** An eye stream that ended (or failed) no longer holds scene frames back. */
  endEye(eye: Eye): PairedScene[] {
    this.active[eye] = false;
    for (const p of this.pending) {
      if (p[eye] === undefined) p[eye] = this.nearest(p.scene.tNs, this.last[eye], null);
    }
    return this.settle();
  }

  /** At the end of input every held scene frame is decided with what is known. */
  flush(): PairedScene[] {
    const done: PairedScene[] = [];
    for (const eye of ['eye0', 'eye1'] as const) if (this.active[eye]) done.push(...this.endEye(eye));
    return [...done, ...this.settle()];
  }

  private nearest(t: bigint, before: EyeRef | null, after: EyeRef | null): EyeRef | null {
    const dBefore = before ? t - before.tNs : null;
    const dAfter = after ? after.tNs - t : null;
    let best: EyeRef | null = null;
    let d: bigint | null = null;
    if (dBefore !== null) [best, d] = [before, dBefore];
    if (dAfter !== null && (d === null || dAfter < d)) [best, d] = [after, dAfter];
    return d !== null && d <= this.maxSkewNs ? best : null;
  }

  private settle(): PairedScene[] {
    const done: PairedScene[] = [];
    while (this.pending.length > 0) {
      const p = this.pending[0];
      if (p === undefined) break;
      const eye0 = this.active.eye0 ? p.eye0 : (p.eye0 ?? null);
      const eye1 = this.active.eye1 ? p.eye1 : (p.eye1 ?? null);
      if (eye0 === undefined || eye1 === undefined) break;
      this.pending.shift();
      done.push({ scene: p.scene, eye0, eye1 });
    }
    return done;
  }
}
