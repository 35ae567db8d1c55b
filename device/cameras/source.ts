import type { Frame, StreamName } from '../frames.ts';

/** What a consumer can see of a camera at any time (and what `status` reports to the phone). */
export interface SourceStatus {
  readonly stream: StreamName;
  readonly state: 'starting' | 'running' | 'retrying' | 'ended' | 'failed';
  readonly framesRead: number;
  readonly failures: number;
  readonly lastError?: string;
}

/**
 * A camera stream. `frames()` yields frames in capture order until the stream ends or `close()` is called;
 * a source that can recover from a failure (a live camera) does so inside `frames()` and reports it in `status()`.
 */
export interface FrameSource {
  readonly stream: StreamName;
  frames(): AsyncIterable<Frame>;
  status(): SourceStatus;
  close(): void;
}
