import * as ort from 'onnxruntime-node';
import type { Logger } from '../../device/logger.ts';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { AttendedRegion, AttentionView, ModelRun, MomentBus } from '../../device/stages.ts';
import type { AttentionEventRepository, Region } from '../../storage/attention-events.ts';
import type { SceneDecision } from '../segmentation/policy.ts';
import type { AttentionConfig } from './config.ts';
import { type Episode, EpisodeDetector, type EpisodeEvent } from './episodes.ts';
import type { TvaGeometry, TvaInput } from './tva-input.ts';

export interface AttentionStageDeps {
  readonly sessionId: string;
  readonly config: AttentionConfig;
  readonly geometry: TvaGeometry;
  readonly input: TvaInput;
  readonly run: ModelRun;
  readonly events: AttentionEventRepository;
  readonly moments: MomentBus;
  readonly logger: Pick<Logger, 'info'>;
  /**
   * The pipeline-wide scene decision for the current frame (StageContext.sceneDecision): on a reuse frame
   * (run false) the stage keeps its last TVA output instead of running TVA. Absent: the stage decides alone.
   */
  readonly sceneDecision?: () => SceneDecision | undefined;
}

/**
 * MemX attention on the scene stream: the TVA network sees the current scene frame, the frame a few frames
 * earlier, and the gaze history, and answers with the attended region and an attention score. Scores become
 * episodes with hysteresis (episodes.ts); each episode's start, peaks and end go to the moment bus (the snippet
 * recorder listens) and the finished episode is stored. Later stages read the latest region through `view`.
 */
export class AttentionStage implements Stage {
  readonly name = 'attention';
  readonly view: AttentionView;
  private readonly episodes: EpisodeDetector;
  private latest: AttendedRegion | null = null;
  private model = '';
  private seen = 0;
  private scored = 0;
  /** Frames TVA was due on but the scene decision said reuse. */
  private reused = 0;
  private stored = 0;
  private episodeNo = 0;

  constructor(private readonly deps: AttentionStageDeps) {
    this.episodes = new EpisodeDetector(deps.config);
    this.view = { latest: () => this.latest };
  }

  async onScene(paired: PairedScene): Promise<void> {
    const frame = paired.scene;
    const { input, config } = this.deps;
    input.push(frame.mat, frame.tNs);
    this.seen++;
    const due = input.ready && (this.seen - 1) % config.everyNthFrame === 0;
    const decision = this.deps.sceneDecision?.();
    // Only this frame's decision counts (a stale one would mean the segmentation stage did not see the frame).
    const reuse = decision !== undefined && decision.tNs === frame.tNs && !decision.run;
    if (!due || reuse) {
      if (due) this.reused++;
      if (this.latest) this.latest = { ...this.latest, tNs: frame.tNs };
      return;
    }
    const { scene, gaze } = input.tensors();
    const g = this.deps.geometry;
    const result = await this.deps.run({
      scene: new ort.Tensor('float32', scene, [1, 6, g.height, g.width]),
      gaze: new ort.Tensor('float32', gaze, [1, g.gazeSteps, 3]),
    });
    this.model = result.model;
    this.scored++;
    const box = result.outputs.box?.data as Float32Array | undefined;
    const score = (result.outputs.score?.data as Float32Array | undefined)?.[0];
    if (box === undefined || box.length < 4 || score === undefined || !Number.isFinite(score)) {
      throw new Error(`attention model ${result.model}: expected outputs box [1,4] and score [1,1]`);
    }
    const region = regionOf(box, frame.width, frame.height);
    const { events, ended } = this.episodes.update(frame.tNs, score, region);
    this.publish(events, ended);
    this.latest = {
      tNs: frame.tNs,
      box: [region.x, region.y, region.w, region.h],
      score,
      eventId: this.episodes.inside ? this.episodeNo : null,
    };
  }

  finish(): void {
    const { events, ended } = this.episodes.flush();
    this.publish(events, ended);
  }

  stats(): Record<string, number> {
    return {
      framesSeen: this.seen,
      framesScored: this.scored,
      runShare: this.seen === 0 ? 0 : Math.round((this.scored / this.seen) * 1000) / 1000,
      framesReused: this.reused,
      episodes: this.stored,
    };
  }

  private publish(events: readonly EpisodeEvent[], ended: Episode | null): void {
    for (const e of events) {
      if (e.kind === 'start') this.episodeNo++;
      this.deps.moments.emit({ kind: e.kind, tNs: e.tNs, score: e.score, region: e.region, trigger: 'attention' });
    }
    if (ended === null) return;
    this.deps.events.add({ sessionId: this.deps.sessionId, ...ended, model: this.model });
    this.stored++;
    this.deps.logger.info(
      { startTNs: String(ended.startTNs), endTNs: String(ended.endTNs), peak: round(ended.peakScore) },
      'attention episode',
    );
  }
}

/** The network's normalised (cx, cy, w, h) as a pixel box clipped to the frame. */
function regionOf(box: Float32Array, width: number, height: number): Region {
  const [cx = 0, cy = 0, w = 0, h = 0] = box;
  const x0 = Math.max(0, Math.min(width, (cx - w / 2) * width));
  const y0 = Math.max(0, Math.min(height, (cy - h / 2) * height));
  const x1 = Math.max(0, Math.min(width, (cx + w / 2) * width));
  const y1 = Math.max(0, Math.min(height, (cy + h / 2) * height));
  return { x: round(x0), y: round(y0), w: round(x1 - x0), h: round(y1 - y0) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
