import type { Frame } from '../../device/frames.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { BatchWriter } from '../../storage/batch-writer.ts';
import type { Db } from '../../storage/db.ts';
import { type BlinkRow, blinkWriter, type FixationRow, fixationWriter } from '../../storage/eye-events.ts';
import type { EyeTrackingConfig } from '../config.ts';
import { BlinkDetector } from '../events/blink-detector.ts';
import { type Fixation, FixationDetector } from '../events/fixation-detector.ts';
import type { EyeTrackingContext } from './context.ts';

/** Online fixations (I-DT over the gaze the gaze stage produced) and blinks (from pupil confidence), stored. */
export class EyeEventsStage implements Stage {
  readonly name = 'eye-events';
  private fixations: FixationDetector | null = null;
  private readonly blinks: BlinkDetector;
  private readonly fixationRows: BatchWriter<FixationRow>;
  private readonly blinkRows: BatchWriter<BlinkRow>;

  constructor(
    db: Db,
    private readonly sessionId: string,
    private readonly config: EyeTrackingConfig,
    private readonly context: EyeTrackingContext,
  ) {
    this.fixationRows = fixationWriter(db);
    this.blinkRows = blinkWriter(db);
    this.blinks = new BlinkDetector(config.blinks, context.eyesSeen);
  }

  onEyeFrame(frame: Frame): void {
    if (frame.stream === 'scene') return;
    const pupil = this.context.pupilFor(frame.stream, frame.index);
    if (pupil !== undefined) {
      const blink = this.blinks.push(pupil.eye, pupil.tNs, pupil.confidence);
      if (blink !== null) this.blinkRows.add({ sessionId: this.sessionId, ...blink });
    }
    this.drainGaze();
  }

  finish(): void {
    this.drainGaze();
    const last = this.fixations?.flush() ?? null;
    if (last !== null) this.store(last);
    this.fixationRows.flush();
    this.blinkRows.flush();
  }

  private drainGaze(): void {
    const gaze = this.context.drainGaze();
    if (gaze.length === 0) return;
    if (this.fixations === null) {
      if (this.context.scene === null) return;
      this.fixations = new FixationDetector(this.context.scene, this.config.fixations);
    }
    for (const g of gaze) {
      const f = this.fixations.push(g);
      if (f !== null) this.store(f);
    }
  }

  private store(f: Fixation): void {
    this.fixationRows.add({ sessionId: this.sessionId, ...f, confidence: Math.min(1, Math.max(0, f.confidence)) });
  }
}
