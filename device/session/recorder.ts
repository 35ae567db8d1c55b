import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { access, mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BadInputError } from '../errors.ts';
import type { Frame, StreamName } from '../frames.ts';
import cv, { type VideoWriter } from '../opencv.ts';
import type { SessionManifest, StreamManifest } from './format.ts';

/** A recorded stream in `session.json`: the shared format plus what only a recording knows. */
export interface RecordedStreamManifest extends StreamManifest {
  readonly timestamps: string;
  /** The fourcc the video was written with (`avc1` = H.264 where the platform has it). */
  readonly codec: string;
  /** Frames in the video and lines in the timestamp file; known once the session is complete. */
  readonly frames?: number;
}

export interface RecordedSessionManifest extends SessionManifest {
  /** The monotonic clock (ns, decimal) at `startedWallMs`: the session's one anchor from `tNs` to wall time. */
  readonly startedMonoNs: string;
  readonly streams: Partial<Record<StreamName, RecordedStreamManifest>>;
  readonly serial: string;
  /** True only once every file is released and fsynced: session.json is written last. */
  readonly complete: boolean;
  readonly stoppedWallMs?: number;
}

export interface RecordedStream {
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  /** Eye cameras may deliver single-channel images; the video writer must be told. Default: colour. */
  readonly isColor?: boolean;
}

export interface SessionRecorderOptions {
  readonly dir: string;
  readonly id: string;
  readonly device: string;
  readonly streams: Partial<Record<StreamName, RecordedStream>>;
  /** Frames waiting for the encoder per stream before new ones are dropped (and counted). Default 8. */
  readonly maxPendingWrites?: number;
  /**
   * The recorder owns the frames it is given (the daemon hands it copies) and frees their pixels once encoded or
   * dropped; without it the caller keeps each frame alive until `stop()`.
   */
  readonly ownsFrames?: boolean;
}

export interface RecorderStats {
  readonly written: Partial<Record<StreamName, number>>;
  readonly dropped: Partial<Record<StreamName, number>>;
}

const SERIAL_FILE = 'serial.log';
const MANIFEST_FILE = 'session.json';
const FOURCCS = ['avc1', 'mp4v'] as const;
// OpenCV's CAP_PROP_BACKEND, which the binding does not export. VideoWriter::get answers -1 for it when the writer
// did not open; the binding has no isOpened() and never throws for a writer that failed to open.
const CAP_PROP_BACKEND = 42;

interface Track {
  readonly name: StreamName;
  readonly spec: RecordedStream;
  readonly videoPath: string;
  readonly tsFd: number;
  readonly writer: VideoWriter;
  readonly codec: string;
  chain: Promise<void>;
  pending: number;
  written: number;
  dropped: number;
  lastTNs: bigint;
  error: unknown;
}

/**
 * Records live frames into a session directory that replay reads back as if it were live.
 *
 * ```ts
 * const recorder = await SessionRecorder.start({ dir, id, device, streams: { scene: { fps: 30, width: 640, height: 480 } } });
 * for await (const frame of scene.frames()) recorder.writeFrame(frame);
 * recorder.writeSerialLine(process.hrtime.bigint(), 'IMU 0.1 0.0 9.8');
 * const manifest = await recorder.stop();
 * ```
 * Encoding runs on the libuv pool, one write at a time per stream so the video keeps capture order; a frame's
 * timestamp line is written as soon as the encoder has taken the frame.
 */
export class SessionRecorder {
  readonly dir: string;
  readonly #manifest: RecordedSessionManifest;
  readonly #tracks: ReadonlyMap<StreamName, Track>;
  readonly #serialFd: number;
  readonly #maxPending: number;
  readonly #ownsFrames: boolean;
  #stopping: Promise<RecordedSessionManifest> | undefined;

  private constructor(
    options: SessionRecorderOptions,
    manifest: RecordedSessionManifest,
    tracks: Map<StreamName, Track>,
  ) {
    this.dir = options.dir;
    this.#manifest = manifest;
    this.#tracks = tracks;
    this.#maxPending = options.maxPendingWrites ?? 8;
    this.#ownsFrames = options.ownsFrames ?? false;
    this.#serialFd = openSync(path.join(options.dir, SERIAL_FILE), 'wx');
  }

  /** Creates the session directory, its files and a first `session.json` (`complete: false`). */
  static async start(options: SessionRecorderOptions): Promise<SessionRecorder> {
    await mkdir(options.dir, { recursive: true });
    if (await exists(path.join(options.dir, MANIFEST_FILE))) {
      throw new BadInputError(`${options.dir} already holds a session; recording would overwrite it`);
    }
    const tracks = new Map<StreamName, Track>();
    const streams: Partial<Record<StreamName, RecordedStreamManifest>> = {};
    for (const [name, spec] of Object.entries(options.streams) as Array<[StreamName, RecordedStream]>) {
      const track = openTrack(options.dir, name, spec);
      tracks.set(name, track);
      streams[name] = streamManifest(track);
    }
    const manifest: RecordedSessionManifest = {
      id: options.id,
      device: options.device,
      startedWallMs: Date.now(),
      startedMonoNs: process.hrtime.bigint().toString(),
      streams,
      serial: SERIAL_FILE,
      complete: false,
    };
    const recorder = new SessionRecorder(options, manifest, tracks);
    await writeJsonAtomically(path.join(options.dir, MANIFEST_FILE), manifest);
    return recorder;
  }

  /**
   * Queues a frame for its stream's video. Returns false when the encoder is `maxPendingWrites` frames behind and
   * the frame was dropped (counted in `stats()`); throws for a frame the session cannot hold.
   */
  writeFrame(frame: Frame): boolean {
    const track = this.#tracks.get(frame.stream);
    if (track === undefined) throw new Error(`stream ${frame.stream} is not part of this recording`);
    if (this.#stopping !== undefined) throw new Error(`recording ${this.dir} is stopping`);
    if (track.error !== undefined) throw track.error;
    checkFits(track, frame);
    if (track.pending >= this.#maxPending) {
      track.dropped += 1;
      if (this.#ownsFrames) frame.mat.release();
      return false;
    }
    track.lastTNs = frame.tNs;
    track.pending += 1;
    track.chain = track.chain
      .then(async () => {
        if (track.error !== undefined) return;
        await track.writer.writeAsync(frame.mat);
        writeSync(track.tsFd, `${frame.tNs}\n`);
        track.written += 1;
      })
      .catch((error: unknown) => {
        track.error ??= error;
      })
      .finally(() => {
        track.pending -= 1;
        if (this.#ownsFrames) frame.mat.release();
      });
    return true;
  }

  /** Appends one raw line from a serial peripheral, stamped with the monotonic clock. */
  writeSerialLine(tNs: bigint, raw: string): void {
    if (this.#stopping !== undefined) throw new Error(`recording ${this.dir} is stopping`);
    // One record per line is the format: a peripheral's stray CR/LF must not split a record in two.
    const line = raw.replace(/[\r\n]+$/, '').replace(/[\r\n]/g, ' ');
    writeSync(this.#serialFd, `${tNs} ${line}\n`);
  }

  stats(): RecorderStats {
    const written: Partial<Record<StreamName, number>> = {};
    const dropped: Partial<Record<StreamName, number>> = {};
    for (const track of this.#tracks.values()) {
      written[track.name] = track.written;
      dropped[track.name] = track.dropped;
    }
    return { written, dropped };
  }

  /**
   * Waits for queued frames, releases the encoders, fsyncs every file and writes `session.json` last, with
   * `complete: true` only if every frame reached its video. Calling it again returns the same result.
   */
  stop(): Promise<RecordedSessionManifest> {
    this.#stopping ??= this.#finish();
    return this.#stopping;
  }

  async #finish(): Promise<RecordedSessionManifest> {
    const tracks = [...this.#tracks.values()];
    await Promise.all(tracks.map((track) => track.chain));
    const streams: Partial<Record<StreamName, RecordedStreamManifest>> = {};
    for (const track of tracks) {
      track.writer.release();
      fsyncSync(track.tsFd);
      closeSync(track.tsFd);
      await fsyncFile(track.videoPath);
      streams[track.name] = { ...streamManifest(track), frames: track.written };
    }
    fsyncSync(this.#serialFd);
    closeSync(this.#serialFd);
    const failed = tracks.find((track) => track.error !== undefined);
    const manifest: RecordedSessionManifest = {
      ...this.#manifest,
      streams,
      complete: failed === undefined,
      stoppedWallMs: Date.now(),
    };
    await writeJsonAtomically(path.join(this.dir, MANIFEST_FILE), manifest);
    if (failed !== undefined) throw failed.error;
    return manifest;
  }
}

function openTrack(dir: string, name: StreamName, spec: RecordedStream): Track {
  const videoPath = path.join(dir, `${name}.mp4`);
  const { writer, codec } = openWriter(videoPath, spec);
  const tsFd = openSync(path.join(dir, `${name}.ts`), 'wx');
  return {
    name,
    spec,
    videoPath,
    tsFd,
    writer,
    codec,
    chain: Promise.resolve(),
    pending: 0,
    written: 0,
    dropped: 0,
    lastTNs: -1n,
    error: undefined,
  };
}

/** H.264 where the platform's FFmpeg has an encoder for it, else MPEG-4 part 2, which every FFmpeg build has. */
function openWriter(file: string, spec: RecordedStream): { writer: VideoWriter; codec: string } {
  const size = new cv.Size(spec.width, spec.height);
  for (const codec of FOURCCS) {
    const writer = new cv.VideoWriter(file, cv.VideoWriter.fourcc(codec), spec.fps, size, spec.isColor ?? true);
    if (backendOf(writer) > 0) return { writer, codec };
    writer.release();
  }
  throw new Error(`${file}: no video encoder would open (tried ${FOURCCS.join(', ')})`);
}

function backendOf(writer: VideoWriter): number {
  // The typings declare get() as void; the native method returns the property as a number.
  const queryable = writer as unknown as { get(property: number): number };
  return queryable.get(CAP_PROP_BACKEND);
}

/** OpenCV's writer silently skips a frame of the wrong size or channel count, which would desync video and ts. */
function checkFits(track: Track, frame: Frame): void {
  const { spec } = track;
  const channels = (spec.isColor ?? true) ? 3 : 1;
  if (frame.width !== spec.width || frame.height !== spec.height || frame.mat.channels !== channels) {
    throw new Error(
      `${frame.stream}: frame ${frame.width}x${frame.height}x${frame.mat.channels} does not fit the recording ` +
        `(${spec.width}x${spec.height}x${channels})`,
    );
  }
  if (frame.tNs <= track.lastTNs) {
    throw new Error(`${frame.stream}: frame ${frame.index} at ${frame.tNs} ns is not after the previous frame`);
  }
}

function streamManifest(track: Track): RecordedStreamManifest {
  const { spec } = track;
  return {
    file: path.basename(track.videoPath),
    timestamps: `${track.name}.ts`,
    fps: spec.fps,
    width: spec.width,
    height: spec.height,
    codec: track.codec,
  };
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await fsyncFile(tmp);
  await rename(tmp, file);
  // The rename itself lives in the directory; without this a power cut can bring back the old session.json.
  await fsyncFile(path.dirname(file));
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
