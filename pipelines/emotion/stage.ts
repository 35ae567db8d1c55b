/**
 * The emotion stage (EMOShip): samples the eye stream at the model's step rate, runs the emotion model at
 * `rateHz` on the newest window, finds episodes with hysteresis, pools their cause over the seconds before the
 * onset, and writes `emotionship` records with their outbox rows. A strong episode is a moment on the MomentBus
 * (trigger 'emotion'), which opens a snippet when the recorder listens.
 */
import { randomUUID } from 'node:crypto';
import type * as ort from 'onnxruntime-node';
import { createPupilDetector } from '../../calibration/pupil/create-detector.ts';
import { greyImageOf } from '../../calibration/pupil/grey-image.ts';
import type { PupilDetector } from '../../calibration/pupil/types.ts';
import type { Frame } from '../../device/frames.ts';
import type { GazeTrack } from '../../device/gaze-track.ts';
import type { PairedScene } from '../../device/pairing.ts';
import type { Stage } from '../../device/pipeline.ts';
import type { EmotionCause, EmotionshipRepository } from '../../storage/emotionship.ts';
import type { StoredHead } from '../../storage/personal-heads.ts';
import type { MomentEvent } from '../snippets/recorder.ts';
import { poolCause, type SegmentationView } from './cause.ts';
import type { EmotionConfig } from './config.ts';
import { type Episode, EpisodeDetector } from './episodes.ts';
import { cropBox, eyeInput, sceneInput } from './inputs.ts';
import type { EmotionModelIo } from './model-io.ts';
import { headLogits, softmax } from './personal-head.ts';
import { neutralPriorShares, reweight } from './prior.ts';
import { inferenceTraceFromEnv } from './trace.ts';
import { type Step, StepWindow } from './window.ts';

type Tensor = ort.Tensor;
export type RunModel = (feeds: Record<string, Tensor>) => Promise<{ outputs: Record<string, Tensor>; model: string }>;

export interface EmotionStageDeps {
  readonly sessionId: string;
  readonly config: EmotionConfig;
  readonly io: EmotionModelIo;
  readonly run: RunModel;
  readonly makeTensor: (data: Float32Array, dims: number[]) => Tensor;
  readonly repo: EmotionshipRepository;
  readonly gaze: GazeTrack;
  readonly emitMoment: (m: MomentEvent) => void;
  readonly detectorConfig: Parameters<typeof createPupilDetector>[0];
  readonly attention?: { latest(): { box: readonly [number, number, number, number] } | null };
  readonly segmentation?: SegmentationView;
  /** The wearer's active personal head for this model, looked up per inference (a rollback takes effect at once). */
  readonly personalHead?: () => StoredHead | null;
}

interface PeakData {
  readonly embedding: Float32Array;
  readonly logits: Float32Array;
  readonly model: string;
  readonly head: string | null;
}

interface LatestScene {
  readonly tNs: bigint;
  readonly crop: Float32Array;
  readonly region: { x: number; y: number; w: number; h: number };
  readonly segmentation: string | null;
}

const NS = 1_000_000_000;

function contains(box: readonly [number, number, number, number], x: number, y: number): boolean {
  return x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3];
}

export class EmotionStage implements Stage {
  readonly name = 'emotion';
  private readonly window: StepWindow;
  private readonly detector: EpisodeDetector<PeakData>;
  private readonly pupilDetector: PupilDetector;
  private readonly periodNs: bigint;
  private readonly every: number;
  private nextStepNs: bigint | null = null;
  private stepCount = 0;
  private scene: LatestScene | null = null;
  private lastTNs = 0n;
  private momentOpen = false;
  private openEmotion: number | null = null;
  private openOnsetNs: bigint | null = null;
  private readonly minDurationNs: bigint;
  /** From the model's training class shares to the wearer's (config neutralPrior); null: the model's own. */
  private readonly prior: { trained: readonly number[]; wanted: readonly number[] } | null;
  /** Pooled at the onset, while the steps before it are still in the window. */
  private openCause: EmotionCause | null = null;
  private readonly trace = inferenceTraceFromEnv();

  constructor(private readonly deps: EmotionStageDeps) {
    const { io, config } = deps;
    const lookBack = Math.ceil(config.causeWindowS * io.stepHz) + 2 * io.steps;
    this.window = new StepWindow(io, lookBack);
    this.detector = new EpisodeDetector<PeakData>(
      {
        onset: config.onsetProbability,
        offset: config.offsetProbability,
        minSteps: config.minSteps,
      },
      Math.max(0, io.labels.indexOf('neutral')),
    );
    this.pupilDetector = createPupilDetector(deps.detectorConfig);
    this.periodNs = BigInt(Math.round(NS / io.stepHz));
    this.every = Math.max(1, Math.round(io.stepHz / config.rateHz));
    this.minDurationNs = BigInt(Math.round(config.minDurationS * NS));
    const neutral = io.labels.indexOf('neutral');
    this.prior =
      config.neutralPrior !== null && io.trainingPrior && neutral >= 0
        ? {
            trained: io.trainingPrior,
            wanted: neutralPriorShares(io.labels.length, neutral, config.neutralPrior),
          }
        : null;
  }

  onScene(paired: PairedScene): void {
    if (!this.deps.io.withScene && !this.deps.segmentation) return;
    const mat = paired.scene.mat;
    const tNs = paired.scene.tNs;
    const g = this.deps.gaze.at(tNs, 200_000_000n);
    if (!g) return;
    // The model reads the crop at the gaze, as it was trained. The attended region (TVA) names where the cause
    // was only when the gaze is in it: TVA's box can sit on a neighbouring object, and a cause is what the
    // wearer actually looked at.
    const crop = cropBox(g.x, g.y, mat.cols, mat.rows);
    const size = this.deps.io.size;
    const data = new Float32Array(3 * size * size);
    sceneInput(mat, crop, size, data);
    const seg = this.deps.segmentation?.classAt(tNs, g.x, g.y)?.label ?? null;
    const box = this.deps.attention?.latest()?.box ?? null;
    const region =
      box && contains(box, g.x, g.y)
        ? { x: Math.round(box[0]), y: Math.round(box[1]), w: Math.round(box[2]), h: Math.round(box[3]) }
        : { x: crop.x, y: crop.y, w: crop.side, h: crop.side };
    this.scene = { tNs, crop: data, region, segmentation: seg };
  }

  async onEyeFrame(frame: Frame): Promise<void> {
    if (frame.stream !== this.deps.config.eye) return;
    this.lastTNs = frame.tNs;
    if (this.nextStepNs !== null && frame.tNs < this.nextStepNs) return;
    this.nextStepNs = (this.nextStepNs ?? frame.tNs) + this.periodNs;
    if (this.nextStepNs <= frame.tNs) this.nextStepNs = frame.tNs + this.periodNs; // after a gap, restart the grid
    this.window.push(this.step(frame));
    this.stepCount++;
    if (this.window.full && this.stepCount % this.every === 0) await this.infer(frame.tNs);
  }

  finish(): void {
    const ev = this.detector.flush(this.lastTNs);
    if (ev?.kind === 'end') this.record(ev.episode);
  }

  private step(frame: Frame): Step {
    const { io, config } = this.deps;
    const grey = greyImageOf(frame.mat);
    const eye = new Float32Array(io.size * io.size);
    eyeInput(frame.mat, io.size, eye);
    const det = this.pupilDetector.detect(grey);
    const mm = det.ellipse ? (det.diameterPx / grey.width) * config.pupilMmPerWidth : null;
    const pupil = this.window.pupilInput(mm, det.ellipse ? det.confidence : 0);
    const maxAge = BigInt(Math.round(config.maxSceneAgeMs * 1e6));
    const s = this.scene && frame.tNs - this.scene.tNs <= maxAge ? this.scene : null;
    return {
      tNs: frame.tNs,
      eye,
      pupil,
      scene: s?.crop ?? null,
      region: s?.region ?? null,
      segmentation: s?.segmentation ?? null,
      model: null,
    };
  }

  private async infer(tNs: bigint): Promise<void> {
    const { io, makeTensor } = this.deps;
    const t = this.window.tensors(io.withScene);
    const feeds: Record<string, Tensor> = {
      eye: makeTensor(t.eye, [1, io.steps, io.size, io.size]),
      pupil: makeTensor(t.pupil, [1, io.steps, 2]),
    };
    if (t.scene) feeds.scene = makeTensor(t.scene, [1, io.steps, 3, io.size, io.size]);
    const { outputs, model } = await this.deps.run(feeds);
    const logits = Float32Array.from(outputs.logits?.data as Float32Array);
    const embedding = Float32Array.from((outputs.embedding?.data as Float32Array | undefined) ?? []);
    this.noteCauses(outputs.cause_logits);
    const stored = this.deps.config.personalHead ? (this.deps.personalHead?.() ?? null) : null;
    const head = stored && stored.base === model && stored.head.dim === embedding.length ? stored : null;
    const raw = softmax(head ? headLogits(head.head, embedding, logits) : logits);
    const probs = this.prior ? reweight(raw, this.prior.trained, this.prior.wanted) : raw;
    this.trace?.(tNs, raw, probs);
    const headId = head ? `${head.model}#${head.version}` : null;
    const ev = this.detector.push(tNs, probs, () => ({ embedding, logits, model, head: headId }));
    if (ev?.kind === 'onset') {
      this.openEmotion = ev.emotion;
      this.openOnsetNs = ev.tNs;
      this.openCause = poolCause(
        this.window.all(),
        ev.tNs - BigInt(Math.round(this.deps.config.causeWindowS * NS)),
        ev.tNs,
      );
    }
    if (
      this.openEmotion !== null &&
      this.openOnsetNs !== null &&
      !this.momentOpen &&
      tNs - this.openOnsetNs >= this.minDurationNs &&
      (probs[this.openEmotion] ?? 0) >= this.deps.config.momentProbability
    ) {
      this.momentOpen = true;
      this.deps.emitMoment({ kind: 'start', tNs, score: probs[this.openEmotion] ?? 0, trigger: 'emotion' });
    }
    if (ev?.kind === 'end') this.record(ev.episode);
  }

  /** Each step keeps the cause head's class from the newest inference that covered it. */
  private noteCauses(causeLogits: Tensor | undefined): void {
    const labels = this.deps.io.causeLabels;
    if (!causeLogits || labels.length === 0) return;
    const data = causeLogits.data as Float32Array;
    const k = labels.length;
    this.window.latest().forEach((step, t) => {
      let best = 0;
      for (let c = 1; c < k; c++) if ((data[t * k + c] ?? 0) > (data[t * k + best] ?? 0)) best = c;
      step.model = labels[best] ?? null;
    });
  }

  private record(ep: Episode<PeakData>): void {
    const { io } = this.deps;
    if (this.momentOpen)
      this.deps.emitMoment({ kind: 'end', tNs: ep.offsetTNs, score: ep.peak.probability, trigger: 'emotion' });
    this.momentOpen = false;
    this.openEmotion = null;
    this.openOnsetNs = null;
    const cause = this.openCause;
    this.openCause = null;
    // A blip is no emotion: expressions hold for a second or more, a crossing shorter than that is noise.
    if (ep.offsetTNs - ep.onsetTNs < this.minDurationNs) return;
    const id = randomUUID();
    this.deps.repo.add({
      id,
      sessionId: this.deps.sessionId,
      emotion: io.labels[ep.emotion] ?? String(ep.emotion),
      confidence: ep.peak.probability,
      onsetTNs: ep.onsetTNs,
      peakTNs: ep.peak.tNs,
      offsetTNs: ep.offsetTNs,
      cause,
      model: ep.atPeak.model,
      head: ep.atPeak.head,
      embedding: ep.atPeak.embedding,
      logits: ep.atPeak.logits,
    });
  }
}
