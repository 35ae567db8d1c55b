import type { SourceStatus } from './cameras/source.ts';
import type { Frame, StreamName } from './frames.ts';

/** Where the daemon's frames come from: a replayed session or the live cameras. */
export interface FrameFeed {
  /** What the session row and the summary call the source. */
  readonly label: string;
  readonly streams: readonly StreamName[];
  frames(): AsyncIterable<Frame>;
  status(): SourceStatus[];
  /** Frames the feed dropped for this stream because the pipeline was behind. */
  dropped(stream: StreamName): number;
  close(): void;
}
