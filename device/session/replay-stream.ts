import type { SourceStatus } from '../cameras/source.ts';
import { BadInputError, messageOf } from '../errors.ts';
import type { Frame } from '../frames.ts';
import cv, { type Mat, type VideoCapture } from '../opencv.ts';
import { readTimestamps, type SessionStreamFiles } from './format.ts';

/**
 * One stream of a recorded session: the video decoded by OpenCV, each frame stamped with its recorded `tNs`.
 * Reads are synchronous: FFmpeg already decodes on its own threads, and measured here a `readAsync` per frame
 * (a thread-pool hop and a promise each) made replay slower than a plain decode loop, not faster.
 */
export class ReplayStream {
  readonly stream;
  private readonly capture: VideoCapture;
  private readonly timestamps: BigInt64Array;
  private delivered = 0;
  private state: SourceStatus['state'] = 'starting';
  private lastError: string | undefined;
  private closed = false;

  private constructor(
    private readonly files: SessionStreamFiles,
    capture: VideoCapture,
    timestamps: BigInt64Array,
  ) {
    this.stream = files.stream;
    this.capture = capture;
    this.timestamps = timestamps;
  }

  /** Opens the video and checks that it decodes; a missing or corrupt file is bad input naming the file. */
  static open(files: SessionStreamFiles): ReplayStream {
    const timestamps = readTimestamps(files.timestamps);
    let capture: VideoCapture;
    try {
      capture = new cv.VideoCapture(files.video);
    } catch (error) {
      throw new BadInputError(`cannot open ${files.stream} video ${files.video}: ${messageOf(error)}`);
    }
    const probe = capture.get(cv.CAP_PROP_FRAME_COUNT);
    if (!(probe > 0)) {
      capture.release();
      throw new BadInputError(`${files.stream} video ${files.video} has no decodable frames (corrupt or empty)`);
    }
    return new ReplayStream(files, capture, timestamps);
  }

  get frameCount(): number {
    return this.timestamps.length;
  }

  status(): SourceStatus {
    return {
      stream: this.stream,
      state: this.state,
      framesRead: this.delivered,
      failures: this.lastError === undefined ? 0 : 1,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** The next frame, or null at the end (or after a decode error, which `status()` then reports). */
  next(): Frame | null {
    if (this.closed || this.state === 'ended' || this.state === 'failed') return null;
    this.state = 'running';
    if (this.delivered >= this.timestamps.length) return this.finish('ended');
    let mat: Mat;
    try {
      mat = this.capture.read();
    } catch (error) {
      return this.finish('failed', `decode error at frame ${this.delivered}: ${messageOf(error)}`);
    }
    if (mat.empty) {
      return this.finish(
        'failed',
        `${this.files.video} ended after ${this.delivered} frames but ${this.files.timestamps} has ${this.timestamps.length}`,
      );
    }
    const index = this.delivered++;
    return { stream: this.stream, index, tNs: this.timestamps[index] ?? 0n, width: mat.cols, height: mat.rows, mat };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.capture.release();
    if (this.state !== 'failed') this.state = 'ended';
  }

  private finish(state: 'ended' | 'failed', error?: string): null {
    this.state = state;
    if (error !== undefined) this.lastError = `${this.stream}: ${error}`;
    return null;
  }
}
