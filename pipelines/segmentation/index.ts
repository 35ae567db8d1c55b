/**
 * Scene segmentation: the zoo's segmentation network on scene frames, when a policy says so and at the scale it
 * says; the latest label map is shared with later stages through `SegmentationView` (nothing per frame is stored).
 */
import type { ModelRegistry } from '../../models/registry.ts';
import type { SegmentationConfig } from './config.ts';
import { SEGMENTATION_SCALES, type SegmentationScale } from './config.ts';
import { FixedIntervalPolicy, type SegmentationPolicy } from './policy.ts';
import { type SegmentationModelInfo, SegmentationStage, type SegmentationStageOptions } from './stage.ts';

export {
  SEGMENTATION_SCALES,
  type SegmentationConfig,
  type SegmentationScale,
  segmentationConfigSchema,
} from './config.ts';
export type { LabelMap } from './label-map.ts';
export {
  FixedIntervalPolicy,
  type LastSegmentation,
  type PolicyInput,
  type SceneDecision,
  type SegmentationDecision,
  type SegmentationPolicy,
} from './policy.ts';
export { SegmentationStage, type SegmentationStageOptions, type SegmentationView } from './stage.ts';
export type { SegmentationReport } from './tally.ts';

/** Loads the configured model (verified by the registry) and builds the stage; the policy defaults to the config's fixed interval. */
export async function createSegmentationStage(
  registry: ModelRegistry,
  config: SegmentationConfig,
  policy: SegmentationPolicy = new FixedIntervalPolicy(config.everyNthFrame, config.scale),
  options: SegmentationStageOptions = {},
): Promise<SegmentationStage> {
  const [outcome] = await registry.start([config.model]);
  if (outcome === undefined) throw new Error(`segmentation: no version of model ${config.model} in ${registry.dir}`);
  if (!outcome.ok)
    throw new Error(`segmentation: model ${outcome.model} did not load (${outcome.stage}: ${outcome.reason})`);
  const serving = registry.servingModel(config.model);
  if (!serving) throw new Error(`segmentation: model ${config.model} is not serving`);
  return new SegmentationStage(registry, modelInfo(config.model, serving.manifest), policy, options);
}

interface ManifestLike {
  readonly inputs: readonly { name: string; normalisation?: Record<string, unknown> | undefined }[];
  readonly outputs: readonly { name: string }[];
  readonly labels: Record<string, unknown>;
  readonly metrics?: Record<string, unknown>;
}

/** The I/O the stage relies on, from the manifest; a manifest that does not say it is refused here, by name. */
export function modelInfo(name: string, manifest: ManifestLike): SegmentationModelInfo {
  const input = manifest.inputs[0];
  const output = manifest.outputs[0];
  if (!input || !output) throw new Error(`segmentation model ${name}: manifest needs an input and an output`);
  const norm = input.normalisation ?? {};
  const resize = norm.resize as { width?: unknown; height?: unknown } | undefined;
  const width = Number(resize?.width);
  const height = Number(resize?.height);
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw new Error(
      `segmentation model ${name}: manifest input ${input.name} has no normalisation.resize width/height`,
    );
  }
  if (norm.channels !== 'BGR') {
    throw new Error(`segmentation model ${name}: input channels ${String(norm.channels)}; this stage feeds BGR`);
  }
  const classes = manifest.labels[output.name];
  if (
    !Array.isArray(classes) ||
    classes.length === 0 ||
    classes.length > 255 ||
    !classes.every((c) => typeof c === 'string')
  ) {
    throw new Error(`segmentation model ${name}: manifest labels.${output.name} must list 1-255 class names`);
  }
  const costRatio = costRatioOf(manifest.metrics);
  return { name, inputName: input.name, outputName: output.name, classes, base: { width, height }, costRatio };
}

/**
 * Compute per scale relative to full scale from the manifest's `metrics.scales[].torchCpuMs` (the toolchain's
 * timing table); empty when the manifest has none. Only used to estimate full-scale time in the run summary.
 */
function costRatioOf(metrics: Record<string, unknown> | undefined): Partial<Record<SegmentationScale, number>> {
  const rows = Array.isArray(metrics?.scales) ? (metrics.scales as { scale?: unknown; torchCpuMs?: unknown }[]) : [];
  const ms = new Map(rows.map((r) => [Number(r.scale), Number(r.torchCpuMs)]));
  const full = ms.get(1);
  const out: Partial<Record<SegmentationScale, number>> = {};
  if (!(full !== undefined && full > 0)) return out;
  for (const s of SEGMENTATION_SCALES) {
    const v = ms.get(s);
    if (v !== undefined && v > 0) out[s] = v / full;
  }
  return out;
}
