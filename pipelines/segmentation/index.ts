/**
 * Scene segmentation: the zoo's segmentation network on scene frames, when a policy says so and at the scale it
 * says; the latest label map is shared with later stages through `SegmentationView` (nothing per frame is stored).
 */
import type { ModelRegistry } from '../../models/registry.ts';
import type { SegmentationConfig } from './config.ts';
import { FixedIntervalPolicy, type SegmentationPolicy } from './policy.ts';
import { type SegmentationModelInfo, SegmentationStage } from './stage.ts';

export {
  SEGMENTATION_SCALES,
  type SegmentationConfig,
  type SegmentationScale,
  segmentationConfigSchema,
} from './config.ts';
export type { LabelMap } from './label-map.ts';
export { FixedIntervalPolicy, type PolicyInput, type SegmentationDecision, type SegmentationPolicy } from './policy.ts';
export { type SegmentationReport, SegmentationStage, type SegmentationView } from './stage.ts';

/** Loads the configured model (verified by the registry) and builds the stage; the policy defaults to the config's fixed interval. */
export async function createSegmentationStage(
  registry: ModelRegistry,
  config: SegmentationConfig,
  policy: SegmentationPolicy = new FixedIntervalPolicy(config.everyNthFrame, config.scale),
): Promise<SegmentationStage> {
  const [outcome] = await registry.start([config.model]);
  if (outcome === undefined) throw new Error(`segmentation: no version of model ${config.model} in ${registry.dir}`);
  if (!outcome.ok)
    throw new Error(`segmentation: model ${outcome.model} did not load (${outcome.stage}: ${outcome.reason})`);
  const serving = registry.servingModel(config.model);
  if (!serving) throw new Error(`segmentation: model ${config.model} is not serving`);
  return new SegmentationStage(registry, modelInfo(config.model, serving.manifest), policy);
}

interface ManifestLike {
  readonly inputs: readonly { name: string; normalisation?: Record<string, unknown> | undefined }[];
  readonly outputs: readonly { name: string }[];
  readonly labels: Record<string, unknown>;
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
  return { name, inputName: input.name, outputName: output.name, classes, base: { width, height } };
}
