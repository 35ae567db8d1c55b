/**
 * `tsx tools/keyframe/measure-key-schedulers-cli.ts --seed S --count N --frames F --profile P --version V [...]`:
 * renders held-out sequences with a head-motion profile, runs the zoo segmentation network on them, and prints
 * each keyframe version's schedule against every frame and a fixed interval with the same keys (masks and
 * agreement) as JSON — the numbers the vitest and bench comments quote, measured by the device code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../device/paths.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { FixedRateScheduler } from '../../pipelines/schedulers/baselines.ts';
import { KeyFrameScheduler } from '../../pipelines/schedulers/key-frame-scheduler.ts';
import { evaluateChooser, fixedScaleChooser, keyChooser, medianCosts } from './schedule-eval.ts';
import { type SegmentedSequence, segmentSequence } from './segmented-sequence.ts';
import { POLICY_SEGMENTATION_VERSION, ZooSegmenter } from './segmenter.ts';
import { generateSequences, type HeadMotionProfile } from './sequences.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '3' },
    frames: { type: 'string', default: '64' },
    profile: { type: 'string', default: 'eyewear' },
    version: { type: 'string', multiple: true, default: [] },
  },
});
const seed = Number(values.seed);
const count = Number(values.count);
const frames = Number(values.frames);
const profile = values.profile as HeadMotionProfile;
if (!Number.isInteger(seed) || !(count > 0) || !(frames > 1) || !['eyewear', 'drift-turns'].includes(profile)) {
  process.stderr.write('usage: --seed S [--count N] [--frames F] [--profile eyewear|drift-turns] --version V...\n');
  process.exit(2);
}
const zoo = join(REPO_ROOT, 'models/zoo');
const registry = new ModelRegistry({
  config: { ...defaultModelsConfig(), dir: zoo },
  trustedKeys: [readTrustedKey(join(REPO_ROOT, 'models/keys/dev.pub.pem'))],
});
const seg = await ZooSegmenter.open(zoo, POLICY_SEGMENTATION_VERSION);
const dir = mkdtempSync(join(tmpdir(), 'glance-measure-keys-'));
try {
  const seqs: SegmentedSequence[] = [];
  for (const d of generateSequences(dir, seed, count, frames, profile)) seqs.push(await segmentSequence(d, seg));
  const costs = medianCosts(seqs);
  const every = await evaluateChooser(seqs, () => fixedScaleChooser(0), costs);
  const out: Record<string, unknown> = { seed, count, frames, profile, network: seg.model, every };
  for (const v of values.version) {
    const loaded = await registry.activate('keyframe', v);
    if (!loaded.ok) throw new Error(`keyframe@${v} did not load: ${JSON.stringify(loaded)}`);
    const rl = await evaluateChooser(
      seqs,
      () => keyChooser(new KeyFrameScheduler((f) => registry.run('keyframe', f))),
      costs,
    );
    const rate = (rl.runShare * frames - 1) / (frames - 1);
    const fixed = await evaluateChooser(seqs, () => keyChooser(new FixedRateScheduler(rate)), costs);
    out[`keyframe@${v}`] = {
      rl,
      fixed,
      lossPoints: 100 * (every.miouTruth - rl.miouTruth),
      gainPointsMasks: 100 * (rl.miouTruth - fixed.miouTruth),
      gainPointsAgreement: 100 * (rl.miouRef - fixed.miouRef),
    };
  }
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
} finally {
  await seg.close();
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
}
