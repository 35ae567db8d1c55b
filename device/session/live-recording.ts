import type { Frame, StreamName } from '../frames.ts';
import type { SessionRecorder, SessionRecorderOptions } from './recorder.ts';

type Starter = (options: SessionRecorderOptions) => Promise<SessionRecorder>;

/** About a minute of a chatty microcontroller (IMU at 100 Hz plus the rest). */
const MAX_EARLY_SERIAL_LINES = 10_000;

/**
 * Records the live streams as a replayable session. A live camera's real size is known only from its first
 * frame, so the recorder starts once every stream has delivered one; frames before that are counted as skipped.
 * The recorder gets its own copy of each frame, because the pipeline frees a frame's pixels when it is done.
 */
export class LiveRecording {
  private recorder: SessionRecorder | undefined;
  private starting: Promise<void> | undefined;
  private readonly firstFrames = new Map<StreamName, { width: number; height: number; channels: number }>();
  /**
   * Serial lines that arrive before every camera has delivered its first frame: kept and written once the
   * recorder exists, so the recording has every line the live daemon saw (a replay delivers them before the first
   * frame). Bounded: a peripheral that floods while a camera never comes up cannot grow memory without limit.
   */
  private earlySerial: { tNs: bigint; raw: string }[] = [];
  skipped = 0;
  earlySerialDropped = 0;
  error: string | undefined;

  constructor(
    private readonly start: Starter,
    private readonly base: Omit<SessionRecorderOptions, 'streams'>,
    private readonly streams: readonly StreamName[],
    private readonly fps: Partial<Record<StreamName, number>>,
  ) {}

  onFrame(frame: Frame): void {
    if (this.recorder) {
      this.recorder.writeFrame({ ...frame, mat: frame.mat.copy() });
      return;
    }
    this.skipped++;
    if (!this.firstFrames.has(frame.stream)) {
      this.firstFrames.set(frame.stream, { width: frame.width, height: frame.height, channels: frame.mat.channels });
    }
    if (this.starting === undefined && this.streams.every((s) => this.firstFrames.has(s))) {
      const streams = Object.fromEntries(
        [...this.firstFrames].map(([s, f]) => [
          s,
          {
            width: f.width,
            height: f.height,
            fps: this.fps[s] ?? (s === 'scene' ? 30 : 120),
            isColor: f.channels !== 1,
          },
        ]),
      );
      this.starting = this.start({ ...this.base, streams, ownsFrames: true }).then(
        (r) => {
          this.recorder = r;
          for (const line of this.earlySerial) r.writeSerialLine(line.tNs, line.raw);
          this.earlySerial = [];
        },
        (e: unknown) => {
          this.error = `recording to ${this.base.dir} failed: ${e instanceof Error ? e.message : String(e)}`;
        },
      );
    }
  }

  onSerialLine(tNs: bigint, raw: string): void {
    if (this.recorder) this.recorder.writeSerialLine(tNs, raw);
    else if (this.error === undefined && this.earlySerial.length < MAX_EARLY_SERIAL_LINES)
      this.earlySerial.push({ tNs, raw });
    else this.earlySerialDropped++;
  }

  async stop(): Promise<void> {
    await this.starting;
    await this.recorder?.stop();
  }
}
