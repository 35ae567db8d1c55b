import { setTimeout as delay } from 'node:timers/promises';
import { messageOf } from '../errors.ts';
import type { Frame, StreamName } from '../frames.ts';
import type { Mat } from '../opencv.ts';
import type { FrameSource, SourceStatus } from './source.ts';

/** An open camera. `read()` resolves to an empty Mat at end of stream, as OpenCV's `VideoCapture::read` does. */
export interface Capture {
  read(): Promise<Mat>;
  release(): void;
}

/** Opens (or reopens) a camera; rejects when it cannot, with a message that says why. */
export type OpenCapture = () => Promise<Capture>;

export interface Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialDelayMs: 200, maxDelayMs: 10_000 };

/** The part of a pino logger the supervisor uses, so that a test or a caller can hand in any pino instance. */
export interface SupervisorLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface SupervisedSourceOptions {
  readonly stream: StreamName;
  readonly open: OpenCapture;
  /** Where the frames come from (path, device, URL), named in log lines and in `lastError`. */
  readonly describe: string;
  readonly backoff?: Partial<Backoff>;
  readonly logger?: SupervisorLogger;
}

const CLOSED = Symbol('closed');
type Closed = typeof CLOSED;

/**
 * The failure policy of a live camera: a failed open, a failed read, an empty frame or end of stream (for a live
 * camera that means it went away) releases the capture and reopens it after an exponential backoff, reset by the
 * next good frame. The stream never ends on its own; only `close()` (or the consumer leaving) ends it.
 */
export class SupervisedSource implements FrameSource {
  readonly stream: StreamName;
  readonly #options: SupervisedSourceOptions;
  readonly #backoff: Backoff;
  #state: SourceStatus['state'] = 'starting';
  #framesRead = 0;
  #failures = 0;
  #lastError: string | undefined;
  #lastTNs = -1n;
  #iterating = false;
  // Every wait inside `frames()` listens to this signal, so `close()` ends iteration without waiting out a backoff
  // or a read that a stalled camera never answers.
  readonly #closing = new AbortController();

  constructor(options: SupervisedSourceOptions) {
    this.stream = options.stream;
    this.#options = options;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    if (!(this.#backoff.initialDelayMs > 0 && this.#backoff.maxDelayMs >= this.#backoff.initialDelayMs)) {
      throw new RangeError(`${options.stream}: backoff needs 0 < initialDelayMs <= maxDelayMs`);
    }
  }

  status(): SourceStatus {
    return {
      stream: this.stream,
      state: this.#state,
      framesRead: this.#framesRead,
      failures: this.#failures,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#state = 'ended';
    this.#closing.abort();
  }

  async *frames(): AsyncGenerator<Frame> {
    if (this.#iterating) throw new Error(`${this.stream}: frames() is already being iterated`);
    this.#iterating = true;
    let delayMs = this.#backoff.initialDelayMs;
    let capture: Capture | undefined;
    let reading: Promise<Mat> | undefined;
    const signal = this.#closing.signal;
    try {
      while (!signal.aborted) {
        let frame: Frame;
        try {
          if (capture === undefined) {
            const opening = this.#options.open();
            const opened = await this.#untilClosed(opening);
            if (opened === CLOSED) {
              // The open may still succeed later; nobody will read that capture.
              opening.then(
                (late) => late.release(),
                () => {},
              );
              break;
            }
            capture = opened;
          }
          reading = capture.read();
          const mat = await this.#untilClosed(reading);
          if (mat === CLOSED) break;
          reading = undefined;
          if (mat.empty) throw new Error('end of stream (the camera went away)');
          frame = this.#stamp(mat);
        } catch (error) {
          if (signal.aborted) break;
          capture?.release();
          capture = undefined;
          reading = undefined;
          this.#recordFailure(error, delayMs);
          await delay(delayMs, undefined, { signal }).catch(() => {});
          delayMs = Math.min(delayMs * 2, this.#backoff.maxDelayMs);
          continue;
        }
        delayMs = this.#backoff.initialDelayMs;
        this.#markRunning();
        yield frame;
      }
    } finally {
      this.close();
      releaseWhenSettled(capture, reading);
    }
  }

  #stamp(mat: Mat): Frame {
    // Stamped when the read returns, which for a live camera is when the frame arrived. Two reads within the same
    // nanosecond are nudged apart so that consumers can rely on strictly increasing times within a stream.
    const now = process.hrtime.bigint();
    const tNs = now > this.#lastTNs ? now : this.#lastTNs + 1n;
    this.#lastTNs = tNs;
    const index = this.#framesRead;
    this.#framesRead += 1;
    return { stream: this.stream, index, tNs, width: mat.cols, height: mat.rows, mat };
  }

  #markRunning(): void {
    if (this.#state === 'retrying') {
      this.#options.logger?.info(
        { stream: this.stream, source: this.#options.describe, failures: this.#failures },
        `camera ${this.stream} recovered`,
      );
    }
    this.#state = 'running';
  }

  #recordFailure(error: unknown, retryInMs: number): void {
    this.#failures += 1;
    this.#lastError = `${this.#options.describe}: ${messageOf(error)}`;
    this.#state = 'retrying';
    this.#options.logger?.warn(
      {
        stream: this.stream,
        source: this.#options.describe,
        failures: this.#failures,
        retryInMs,
        err: messageOf(error),
      },
      `camera ${this.stream} failed (${messageOf(error)}); reopening in ${retryInMs} ms`,
    );
  }

  #untilClosed<T>(work: Promise<T>): Promise<T | Closed> {
    const signal = this.#closing.signal;
    if (signal.aborted) return Promise.resolve(CLOSED);
    // Not Promise.race against one long-lived promise: that would leave a reaction behind for every read.
    return new Promise((resolve, reject) => {
      const onClose = () => resolve(CLOSED);
      signal.addEventListener('abort', onClose, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onClose);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onClose);
          reject(error);
        },
      );
    });
  }
}

/**
 * Releases a capture only once a read that may still be using it (on the libuv pool) has settled, so that closing
 * during a read never frees a camera under a worker thread.
 */
function releaseWhenSettled(capture: Capture | undefined, reading: Promise<Mat> | undefined): void {
  if (capture === undefined) return;
  const release = () => capture.release();
  if (reading === undefined) release();
  else reading.then(release, release);
}
