import { access } from 'node:fs/promises';
import type { Frame, StreamName } from '../frames.ts';
import cv from '../opencv.ts';
import type { FrameSource, SourceStatus } from './source.ts';
import { type Backoff, type Capture, SupervisedSource, type SupervisorLogger } from './supervisor.ts';

export interface OpenCvCameraConfig {
  readonly stream: StreamName;
  /** A device index, `/dev/videoN`, a video file, an RTSP URL, or a GStreamer pipeline (any string with a `!`). */
  readonly uri: string | number;
  /** Requested from the camera; a camera or file that cannot honour them delivers its own size. */
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
}

export interface OpenCvCameraOptions {
  readonly backoff?: Partial<Backoff>;
  readonly logger?: SupervisorLogger;
}

/** The OpenCV backend for a camera address: GStreamer for pipelines, whatever OpenCV picks for the rest. */
export function apiPreferenceFor(uri: string | number): number {
  return typeof uri === 'string' && uri.includes('!') ? cv.CAP_GSTREAMER : cv.CAP_ANY;
}

/**
 * Opens one camera through OpenCV and asks for the configured size and rate.
 *
 * Caveat: the binding has no asynchronous open, so opening (slow for RTSP or a GStreamer pipeline) blocks the
 * event loop for as long as OpenCV takes; reads and property writes run on the libuv pool.
 */
export async function openCapture(config: OpenCvCameraConfig): Promise<Capture> {
  const address = deviceAddress(config.uri);
  if (isLocalPath(address)) {
    // A missing file or unplugged /dev/videoN would otherwise cost a blocking open of a few hundred ms (OpenCV tries
    // every backend), stalling the other streams on each retry.
    await access(address).catch(() => {
      throw new Error(`no such file or device: ${address}`);
    });
  }
  const capture = new cv.VideoCapture(address, apiPreferenceFor(config.uri));
  const requested: Array<[number, number | undefined]> = [
    [cv.CAP_PROP_FRAME_WIDTH, config.width],
    [cv.CAP_PROP_FRAME_HEIGHT, config.height],
    [cv.CAP_PROP_FPS, config.fps],
  ];
  try {
    for (const [property, value] of requested) {
      if (value !== undefined) await capture.setAsync(property, value);
    }
  } catch (error) {
    capture.release();
    throw error;
  }
  return { read: () => capture.readAsync(), release: () => capture.release() };
}

/** A live camera read through OpenCV, reopened by the supervisor whenever it fails or goes away. */
export class OpenCvCameraSource implements FrameSource {
  readonly stream: StreamName;
  readonly #supervised: SupervisedSource;

  constructor(config: OpenCvCameraConfig, options: OpenCvCameraOptions = {}) {
    this.stream = config.stream;
    this.#supervised = new SupervisedSource({
      stream: config.stream,
      describe: redactCredentials(String(config.uri)),
      open: () => openCapture(config),
      ...options,
    });
  }

  frames(): AsyncIterable<Frame> {
    return this.#supervised.frames();
  }

  status(): SourceStatus {
    return this.#supervised.status();
  }

  close(): void {
    this.#supervised.close();
  }
}

/** Config files give device indices as strings ("0"); OpenCV opens a number as a device and a string as a path. */
function deviceAddress(uri: string | number): string | number {
  return typeof uri === 'string' && /^\d+$/.test(uri) ? Number(uri) : uri;
}

/** A file or device node, as opposed to a URL, a pipeline or an image-sequence pattern (`frame_%04d.png`). */
function isLocalPath(address: string | number): address is string {
  return typeof address === 'string' && !/[!%]/.test(address) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(address);
}

/** Camera URLs may carry a password (rtsp://user:pass@host); log lines and the phone's status must not. */
function redactCredentials(uri: string): string {
  return uri.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
}
