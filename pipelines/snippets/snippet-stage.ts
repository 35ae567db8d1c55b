import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { StageContext } from '../../device/stages.ts';
import type { SnippetRecorder } from './recorder.ts';

const GAZE_MAX_AGE_NS = 50_000_000n;

/**
 * The snippet recorder as a pipeline stage: every scene frame goes into its pre-capture buffer (or the open
 * clip) with the gaze and attention score at that frame, and the moments other stages emit open and close clips.
 */
export class SnippetStage implements Stage {
  readonly name = 'snippets';

  constructor(
    private readonly recorder: SnippetRecorder,
    private readonly context: StageContext,
  ) {
    context.moments.subscribe((m) => recorder.onMoment(m));
  }

  onScene(paired: PairedScene): void {
    const { tNs, mat } = paired.scene;
    const g = this.context.gaze.at(tNs, GAZE_MAX_AGE_NS);
    const score = this.context.attention?.latest()?.score ?? 0;
    this.recorder.onScene(mat, tNs, g && { x: g.x, y: g.y, confidence: g.confidence }, score);
  }

  finish(): Promise<void> {
    return this.recorder.finish();
  }

  stats(): Record<string, number> {
    const s = this.recorder.stats();
    return { clips: s.written, failed: s.failed, frames: s.frames, bytes: s.bytes, encodeMs: s.encodeMs };
  }
}
