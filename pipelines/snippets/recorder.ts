import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { messageOf } from '../../device/errors.ts';
import type { Logger } from '../../device/logger.ts';
import cv, { type Mat } from '../../device/opencv.ts';
import { enforceRetention, freeSpace, type RetentionPolicy } from '../../storage/retention.ts';
import type { SnippetRepository } from '../../storage/snippets.ts';
import type { CaptureState } from './capture-state.ts';
import { ClipWriter, type CropWindow, type GazeMark } from './clip-writer.ts';
import { PreCaptureBuffer } from './ring-buffer.ts';

export interface SnippetSettings {
  readonly preSeconds: number;
  readonly postSeconds: number;
  readonly maxSeconds: number;
  /** Clip width in pixels (height follows the scene's aspect ratio). */
  readonly width: number;
  readonly fps: number;
  /** How long after its start a moment may be reported (dated back to its start); the pre-capture covers it. */
  readonly momentLagSeconds?: number;
  /** Fraction of the scene's width and height a clip keeps, centred on the gaze (1 or absent: the whole frame). */
  readonly crop?: number;
  readonly retention: RetentionPolicy;
}

/** What the recorder has done so far, for the run summary and the benchmark. */
export interface SnippetStats {
  readonly written: number;
  readonly failed: number;
  readonly frames: number;
  readonly bytes: number;
  /** Time spent scaling and encoding frames into clips, milliseconds. */
  readonly encodeMs: number;
}

/** What opens and closes a snippet: an attention (or emotion) episode on the scene clock. */
export interface MomentEvent {
  readonly kind: 'start' | 'peak' | 'end';
  readonly tNs: bigint;
  readonly score: number;
  readonly region?: { x: number; y: number; w: number; h: number };
  readonly trigger: 'attention' | 'emotion' | 'manual';
}

export interface SnippetDeps {
  readonly settings: SnippetSettings;
  readonly dataDir: string;
  readonly sessionId: string;
  readonly repo: SnippetRepository;
  readonly capture: CaptureState;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The wall-clock time of a monotonic timestamp (one anchor per session). */
  readonly wallMsAt: (tNs: bigint) => number;
  /** name@version of the models whose output the snippets carry. */
  readonly models: () => readonly string[];
}

interface OpenClip {
  readonly id: string;
  readonly writer: ClipWriter;
  readonly startTNs: bigint;
  readonly trigger: MomentEvent['trigger'];
  readonly width: number;
  readonly height: number;
  lastTNs: bigint;
  score: number;
  region: MomentEvent['region'] | null;
  /** Post-capture deadline once the moment has ended; undefined while it lasts. */
  closeAtNs: bigint | undefined;
}

const NS = 1_000_000_000;
/** How far the crop window's centre moves towards each new gaze point (per frame). */
const CROP_FOLLOW = 0.25;
const DISK_FULL_MARGIN_BYTES = 1_000_000;

/**
 * Turns moments into snippets: a clip starts `preSeconds` before the moment (from the pre-capture buffer) and
 * ends `postSeconds` after it; a moment that begins during another's post-capture extends the same clip, and a
 * clip longer than `maxSeconds` is split. A frame belongs to one clip only: a clip whose pre-capture reaches
 * into the previous clip starts where that one ended. Writes never happen while capture is paused or blocked.
 */
export class SnippetRecorder {
  private readonly dir: string;
  private readonly buffer: PreCaptureBuffer;
  private clip: OpenClip | undefined;
  /** Triggers whose moment is under way; a clip closes (after post-capture) once none is. */
  private readonly activeTriggers = new Set<MomentEvent['trigger']>();
  private get active(): boolean {
    return this.activeTriggers.size > 0;
  }
  private pending: Promise<void> = Promise.resolve();
  private reduced = false;
  /** A moment that started before any frame was buffered: the clip opens with the next frame. */
  private pendingStart: MomentEvent | undefined;
  private needFreeBytes = 0;
  private failure = '';
  written = 0;
  failed = 0;
  private framesWritten = 0;
  private bytesWritten = 0;
  private encodeMs = 0;
  private cropCentre: { x: number; y: number } | null = null;

  constructor(private readonly deps: SnippetDeps) {
    this.dir = join(deps.dataDir, 'snippets');
    mkdirSync(this.dir, { recursive: true });
    this.sweepPartials();
    // A moment reported late but dated back (attention confirms an episode a few frames in) still gets its full
    // pre-capture: the buffer also spans that lag.
    this.buffer = new PreCaptureBuffer(deps.settings.preSeconds + (deps.settings.momentLagSeconds ?? 0));
    this.checkRetention();
  }

  /** Every scene frame, in capture order; the recorder keeps a scaled copy only while capture is allowed. */
  onScene(frame: Mat, tNs: bigint, gaze: GazeMark | null, score = 0): void {
    if (!this.deps.capture.allowed()) {
      this.buffer.clear(); // nothing from a paused moment may end up in a later clip's pre-capture
      if (this.clip) this.finishClip('capture paused');
      return;
    }
    const { mat: small, window } = this.scale(frame, gaze);
    if (this.clip) {
      if (this.clip.closeAtNs !== undefined && tNs > this.clip.closeAtNs) {
        this.finishClip('moment over');
      } else if (tNs - this.clip.startTNs > BigInt(Math.round(this.deps.settings.maxSeconds * NS))) {
        const trigger = this.clip.trigger;
        this.finishClip('maximum length');
        if (this.active) this.pendingStart = { kind: 'start', tNs, score, trigger };
      }
    }
    if (this.clip && (small.cols !== this.clip.width || small.rows !== this.clip.height)) {
      this.finishClip('clip size changed');
      if (this.active) this.pendingStart = { kind: 'start', tNs, score, trigger: 'attention' };
    }
    if (!this.clip && this.pendingStart) {
      this.buffer.push({ mat: small, tNs, gaze, score, ...(window ? { window } : {}) });
      this.openClip(this.pendingStart.tNs, this.pendingStart);
      this.pendingStart = undefined;
      return;
    }
    if (this.clip) {
      const t0 = performance.now();
      this.clip.writer.write(small, tNs, gaze, score, window);
      this.encodeMs += performance.now() - t0;
      this.clip.lastTNs = tNs;
    } else {
      this.buffer.push({ mat: small, tNs, gaze, score, ...(window ? { window } : {}) });
    }
  }

  onMoment(event: MomentEvent): void {
    if (event.kind === 'start') {
      this.activeTriggers.add(event.trigger);
      // Overlapping moments merge into one clip; otherwise the next frame opens a clip reaching back from here.
      if (this.clip) this.clip.closeAtNs = undefined;
      else if (this.deps.capture.allowed()) this.pendingStart ??= event;
    }
    if (this.clip) {
      if (event.score > this.clip.score) {
        this.clip.score = event.score;
        this.clip.region = event.region ?? this.clip.region;
      }
    }
    if (event.kind === 'end') this.activeTriggers.delete(event.trigger);
    // The clip runs while any trigger's moment lasts (an attention episode that ends during a strong emotion).
    if (this.clip && event.kind === 'end' && !this.active) {
      this.clip.closeAtNs = event.tNs + BigInt(Math.round(this.deps.settings.postSeconds * NS));
    }
    if (event.kind === 'end' && !this.active) {
      if (this.pendingStart && !this.clip) {
        // A moment that ended before any frame: open now from the pre-capture buffer, close after post-capture.
        this.openClip(this.pendingStart.tNs, this.pendingStart);
        this.pendingStart = undefined;
        if (this.clip) this.onMoment(event);
      }
    }
  }

  /** Completes the open clip (its post-capture cut short) and waits for every write. */
  async finish(): Promise<void> {
    if (this.clip) this.finishClip('end of input');
    this.buffer.clear();
    await this.pending;
  }

  private openClip(tNs: bigint, event: MomentEvent): void {
    const pre = this.buffer.drainFrom(tNs - BigInt(Math.round(this.deps.settings.preSeconds * NS)));
    const first = pre[0];
    if (first === undefined) return; // no frame yet: pendingStart stays and the next frame opens the clip
    // Every frame of a clip has the first frame's size: a size change (reduced quality) starts a new clip.
    const width = first.mat.cols;
    const height = first.mat.rows;
    const startTNs = first.tNs;
    const id = `${this.deps.sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}-${startTNs}`;
    let writer: ClipWriter;
    try {
      writer = new ClipWriter({ dir: this.dir, id, width, height, fps: this.deps.settings.fps });
    } catch (error) {
      for (const f of pre) f.mat.release();
      this.fail(`cannot start snippet ${id}: ${messageOf(error)}`);
      return;
    }
    this.clip = {
      id,
      writer,
      startTNs,
      trigger: event.trigger,
      width,
      height,
      lastTNs: startTNs,
      score: event.score,
      region: event.region ?? null,
      closeAtNs: undefined,
    };
    for (const f of pre) {
      if (f.mat.cols === width && f.mat.rows === height) writer.write(f.mat, f.tNs, f.gaze, f.score, f.window);
      else f.mat.release();
      this.clip.lastTNs = f.tNs;
    }
  }

  private finishClip(why: string): void {
    const clip = this.clip;
    if (!clip) return;
    this.clip = undefined;
    this.pending = this.pending.then(() => this.complete(clip, why));
  }

  private async complete(clip: OpenClip, why: string): Promise<void> {
    try {
      const files = await clip.writer.close();
      this.deps.repo.add({
        id: clip.id,
        sessionId: this.deps.sessionId,
        startTNs: clip.startTNs,
        endTNs: clip.lastTNs,
        startWallMs: this.deps.wallMsAt(clip.startTNs),
        frames: files.frames,
        width: clip.width,
        height: clip.height,
        path: relative(this.deps.dataDir, files.video),
        thumbPath: relative(this.deps.dataDir, files.thumb),
        sidecarPath: relative(this.deps.dataDir, files.sidecar),
        bytes: files.bytes,
        videoBytes: files.videoBytes,
        sha256: files.sha256,
        score: clip.score,
        region: clip.region ?? null,
        trigger: clip.trigger,
        models: this.deps.models(),
      });
      this.written++;
      this.framesWritten += files.frames;
      this.bytesWritten += files.bytes;
      this.deps.logger.info({ snippet: clip.id, frames: files.frames, bytes: files.bytes, why }, 'snippet saved');
    } catch (error) {
      this.fail(`snippet ${clip.id} not saved: ${messageOf(error)}`);
    }
    this.checkRetention();
  }

  private checkRetention(): void {
    const report = enforceRetention(this.deps.repo, this.deps.dataDir, this.deps.settings.retention);
    this.reduced = report.advice === 'reduced';
    let reason = report.advice === 'stop' ? report.reason : null;
    if (reason === null && this.needFreeBytes > 0) {
      if (report.freeBytes < this.needFreeBytes) {
        reason = `disk full: ${this.failure}; recording resumes when ${(this.needFreeBytes / 1e6).toFixed(1)} MB are free`;
      } else {
        this.needFreeBytes = 0;
      }
    }
    this.deps.capture.block(reason);
    if (reason) this.deps.logger.warn({ advice: report.advice }, reason);
  }

  /**
   * A clip that could not be written (full disk, I/O error) stops recording until there is room again: the free
   * space it failed at plus a margin, so the recorder does not fail over and over on the same full disk.
   */
  private fail(message: string): void {
    this.failed++;
    this.deps.logger.warn({}, message);
    const margin = Math.max(this.deps.settings.retention.minFreeBytes, DISK_FULL_MARGIN_BYTES);
    this.needFreeBytes = freeSpace(this.dir) + margin;
    this.failure = message;
  }

  stats(): SnippetStats {
    return {
      written: this.written,
      failed: this.failed,
      frames: this.framesWritten,
      bytes: this.bytesWritten,
      encodeMs: Math.round(this.encodeMs),
    };
  }

  /**
   * The clip-sized copy of a frame: the whole frame, or a window that follows the gaze. The window's centre moves
   * a fraction of the way to each new gaze point, so a clip pans with the wearer's attention instead of jumping
   * with every saccade; without gaze it stays where it was.
   */
  private scale(frame: Mat, gaze: GazeMark | null): { mat: Mat; window?: CropWindow } {
    const crop = this.deps.settings.crop ?? 1;
    let source = frame;
    let window: CropWindow | undefined;
    if (crop < 1) {
      const cw = Math.max(2, Math.round(frame.cols * crop));
      const ch = Math.max(2, Math.round(frame.rows * crop));
      const target =
        gaze !== null && gaze.confidence > 0 ? gaze : (this.cropCentre ?? { x: frame.cols / 2, y: frame.rows / 2 });
      const c = this.cropCentre ?? target;
      this.cropCentre = { x: c.x + CROP_FOLLOW * (target.x - c.x), y: c.y + CROP_FOLLOW * (target.y - c.y) };
      const x0 = Math.min(frame.cols - cw, Math.max(0, Math.round(this.cropCentre.x - cw / 2)));
      const y0 = Math.min(frame.rows - ch, Math.max(0, Math.round(this.cropCentre.y - ch / 2)));
      source = frame.getRegion(new cv.Rect(x0, y0, cw, ch));
      window = [x0, y0, cw, ch];
    }
    try {
      const width = this.reduced ? Math.round(this.deps.settings.width / 2) : this.deps.settings.width;
      const height = Math.round((source.rows * width) / source.cols / 2) * 2;
      const mat = source.resize(height, width - (width % 2), 0, 0, cv.INTER_AREA);
      return window ? { mat, window } : { mat };
    } finally {
      if (source !== frame) source.release();
    }
  }

  /** Files of a snippet that was being written when the process died: never referenced, removed at start. */
  private sweepPartials(): void {
    for (const f of readdirSync(this.dir)) if (f.includes('.partial')) rmSync(join(this.dir, f), { force: true });
  }
}
