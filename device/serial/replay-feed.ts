import type { SerialMessage } from './protocol.ts';
import type { ReplayedLine, SerialLogCounts, SerialLogReplay } from './replay.ts';

/**
 * Interleaves a recorded serial log with the replayed frames: before a frame captured at `tNs` is processed,
 * every serial line received up to that time is delivered, as it would have been on the live device.
 */
export class SerialReplayFeed {
  private readonly lines: AsyncIterator<ReplayedLine>;
  private held: ReplayedLine | undefined;
  private done = false;

  constructor(
    private readonly replay: SerialLogReplay,
    private readonly deliver: (msg: SerialMessage, tNs: bigint) => void,
  ) {
    this.lines = replay[Symbol.asyncIterator]();
  }

  /** Whether `until(tNs)` has anything to do: lets the frame loop skip an await on most frames. */
  due(tNs: bigint): boolean {
    return !this.done && (this.held === undefined || this.held.tNs <= tNs);
  }

  /** Delivers every line up to and including `tNs` (all of them when `tNs` is undefined). */
  async until(tNs?: bigint): Promise<void> {
    while (!this.done) {
      if (this.held === undefined) {
        const next = await this.lines.next();
        if (next.done) {
          this.done = true;
          return;
        }
        this.held = next.value;
      }
      if (tNs !== undefined && this.held.tNs > tNs) return;
      const line = this.held;
      this.held = undefined;
      if (line.result.type !== 'malformed') this.deliver(line.result, line.tNs);
    }
  }

  counts(): SerialLogCounts {
    return this.replay.counts();
  }
}
