import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import cv, { type Mat, type VideoWriter } from '../../device/opencv.ts';

export interface ClipSpec {
  readonly dir: string;
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

export interface GazeMark {
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
}

/** The part of the scene frame a clip frame shows (x, y, w, h in scene pixels), when the clip follows the gaze. */
export type CropWindow = readonly [number, number, number, number];

export interface ClipFiles {
  readonly video: string;
  readonly thumb: string;
  readonly sidecar: string;
  readonly frames: number;
  readonly bytes: number;
  readonly videoBytes: number;
  readonly sha256: string;
}

// OpenCV's CAP_PROP_BACKEND: a VideoWriter that failed to open answers -1 (the binding never throws for it).
const CAP_PROP_BACKEND = 42;

/**
 * One snippet being written: H.264 video (OpenCV), a per-frame timestamp and gaze sidecar, and a JPEG thumbnail
 * (sharp). Everything is written under `.partial` names and renamed only once complete, decodable and fsynced,
 * so a crash or a full disk can leave partial files (swept at the next start) but never a finished-looking one.
 */
export class ClipWriter {
  private readonly partialVideo: string;
  private readonly writer: VideoWriter;
  private readonly marks: Array<{ tNs: string; gaze: GazeMark | null; window?: CropWindow }> = [];
  private failure: unknown;
  private thumbSource: { mat: Mat; score: number } | undefined;

  constructor(private readonly spec: ClipSpec) {
    this.partialVideo = join(spec.dir, `${spec.id}.partial.mp4`);
    this.writer = openWriter(this.partialVideo, spec);
  }

  get frames(): number {
    return this.marks.length;
  }

  /** Queues a frame (already at the clip's size; the writer takes ownership and frees it once encoded). */
  write(mat: Mat, tNs: bigint, gaze: GazeMark | null, score: number, window?: CropWindow): void {
    // The window lets the phone place the gaze (scene pixels) on a cropped clip.
    this.marks.push(window ? { tNs: tNs.toString(), gaze, window } : { tNs: tNs.toString(), gaze });
    if (this.thumbSource === undefined || score > this.thumbSource.score) {
      this.thumbSource?.mat.release();
      this.thumbSource = { mat: mat.copy(), score };
    }
    // Synchronous on purpose: the binding's writeAsync returned success here while writing nothing to the file
    // (48-byte MP4s, no moov atom), and a snippet is a few hundred small frames, ~1 ms each to encode.
    try {
      if (this.failure === undefined) this.writer.write(mat);
    } catch (error) {
      this.failure = error;
    } finally {
      mat.release();
    }
  }

  /** Completes the clip; throws (after removing its partial files) if it is not whole. */
  async close(): Promise<ClipFiles> {
    this.writer.release();
    try {
      if (this.failure !== undefined) throw this.failure;
      const decoded = countFrames(this.partialVideo);
      if (decoded !== this.marks.length) {
        throw new Error(`clip ${this.spec.id}: wrote ${this.marks.length} frames, file decodes to ${decoded}`);
      }
      const video = join(this.spec.dir, `${this.spec.id}.mp4`);
      const thumb = join(this.spec.dir, `${this.spec.id}.jpg`);
      const sidecar = join(this.spec.dir, `${this.spec.id}.json`);
      const sidecarBody = JSON.stringify({ schema: 'snippet-sidecar.v1', id: this.spec.id, frames: this.marks });
      writeDurably(`${sidecar}.partial`, sidecarBody);
      writeDurably(`${thumb}.partial`, await this.thumbnail());
      fsyncFile(this.partialVideo);
      const sha256 = createHash('sha256').update(readFileSync(this.partialVideo)).digest('hex');
      renameSync(`${sidecar}.partial`, sidecar);
      renameSync(`${thumb}.partial`, thumb);
      renameSync(this.partialVideo, video);
      fsyncFile(this.spec.dir);
      const videoBytes = statSync(video).size;
      const bytes = videoBytes + statSync(thumb).size + statSync(sidecar).size;
      return { video, thumb, sidecar, frames: this.marks.length, bytes, videoBytes, sha256 };
    } catch (error) {
      this.abortFiles();
      throw error;
    } finally {
      this.thumbSource?.mat.release();
    }
  }

  /** Drops the clip and its partial files (pause, disk full, shutdown without post-capture). */
  abort(): void {
    this.writer.release();
    this.thumbSource?.mat.release();
    this.abortFiles();
  }

  private abortFiles(): void {
    for (const suffix of ['.partial.mp4', '.jpg.partial', '.json.partial']) {
      rmSync(join(this.spec.dir, `${this.spec.id}${suffix}`), { force: true });
    }
  }

  private async thumbnail(): Promise<Buffer> {
    const source = this.thumbSource?.mat;
    if (source === undefined) throw new Error(`clip ${this.spec.id} has no frame for a thumbnail`);
    const rgb = source.cvtColor(cv.COLOR_BGR2RGB);
    return sharp(rgb.getData(), { raw: { width: rgb.cols, height: rgb.rows, channels: 3 } })
      .jpeg({ quality: 80 })
      .toBuffer();
  }
}

function openWriter(path: string, spec: ClipSpec): VideoWriter {
  for (const fourcc of ['avc1', 'mp4v']) {
    const writer = new cv.VideoWriter(
      path,
      cv.VideoWriter.fourcc(fourcc),
      spec.fps,
      new cv.Size(spec.width, spec.height),
    );
    // The typings declare get() as void; it returns the property value (see CAP_PROP_BACKEND above).
    if ((writer.get(CAP_PROP_BACKEND) as unknown as number) >= 0) return writer;
    writer.release();
  }
  throw new Error(`cannot open a video writer for ${path}`);
}

function countFrames(path: string): number {
  // Without the file OpenCV would try every other backend (GStreamer, image sequences) and print their errors.
  if (!existsSync(path) || statSync(path).size === 0) return 0;
  const cap = new cv.VideoCapture(path);
  let n = 0;
  for (let m = cap.read(); !m.empty; m = cap.read()) {
    m.release();
    n++;
  }
  cap.release();
  return n;
}

function writeDurably(path: string, data: string | Buffer): void {
  writeFileSync(path, data);
  fsyncFile(path);
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
