import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../../device/frames.ts';
import { defaultModelsConfig } from '../../../models/config.ts';
import { ModelRegistry } from '../../../models/registry.ts';
import { readTrustedKey } from '../../../models/signing.ts';
import type { Flow } from '../../../pipelines/schedulers/flow/image.ts';
import {
  createSegmentationStage,
  type PolicyInput,
  type SceneDecision,
  type SegmentationDecision,
  type SegmentationPolicy,
} from '../../../pipelines/segmentation/index.ts';
import { sampleSceneFrames } from './sample-scene.ts';

/** A policy that plays back fixed decisions and records what the stage showed it. */
class Scripted implements SegmentationPolicy {
  readonly name = 'scripted';
  readonly inputs: PolicyInput[] = [];
  readonly runs: number[] = [];
  constructor(private readonly decisions: SegmentationDecision[]) {}
  async decide(input: PolicyInput): Promise<SegmentationDecision> {
    this.inputs.push(input);
    const d = this.decisions[this.inputs.length - 1];
    if (!d) throw new Error('script ran out');
    return d;
  }
  noteModelRun(ms: number): void {
    this.runs.push(ms);
  }
}

function shiftFlow(width: number, height: number, dx: number, dy: number): Flow {
  return {
    width,
    height,
    dx: new Float32Array(width * height).fill(dx),
    dy: new Float32Array(width * height).fill(dy),
  };
}

describe('segmentation stage: reuse frames and the scene decision', () => {
  let registry: ModelRegistry;
  const frames: Frame[] = [];

  beforeAll(() => {
    const config = defaultModelsConfig();
    registry = new ModelRegistry({ config, trustedKeys: config.trustedKeys.map(readTrustedKey) });
    frames.push(...sampleSceneFrames(3));
  });

  afterAll(async () => {
    for (const f of frames) f.mat.release();
    await registry?.close();
  });

  it('warps the last key map by the policy’s flow: a known shift gives the shifted map', async () => {
    // Flow at the scheduler's 160×120; the map at scale ¾ is 120×90, so 4 px of flow are 3 label pixels.
    const policy = new Scripted([
      { run: true, scale: 0.75 },
      { run: false, scale: 0.75, flow: shiftFlow(160, 120, 4, -4) },
      { run: false, scale: 0.75 },
    ]);
    const decisions: SceneDecision[] = [];
    const stage = await createSegmentationStage(
      registry,
      { enabled: true, model: 'segmentation', everyNthFrame: 1, scale: 1, policy: 'fixed' },
      policy,
      { onDecision: (d) => decisions.push(d), battery: () => 0.5 },
    );
    const [f0, f1, f2] = frames as [Frame, Frame, Frame];
    await stage.onScene({ scene: f0, eye0: null, eye1: null });
    const key = stage.latest();
    if (!key) throw new Error('no key map');
    expect([key.width, key.height]).toEqual([120, 90]);
    await stage.onScene({ scene: f1, eye0: null, eye1: null });
    const warped = stage.latest();
    if (!warped) throw new Error('no warped map');
    expect(warped.tNs).toBe(f1.tNs);
    expect(warped.keyTNs).toBe(f0.tNs);
    // out(x, y) = key(x + 3, y − 3), sources clamped to the key's border.
    const expected = new Uint8Array(120 * 90);
    for (let y = 0; y < 90; y++)
      for (let x = 0; x < 120; x++) {
        expected[y * 120 + x] = key.labels[Math.max(0, y - 3) * 120 + Math.min(119, x + 3)] as number;
      }
    expect(Buffer.from(warped.labels).equals(Buffer.from(expected))).toBe(true);
    expect([...warped.histogram].reduce((a, b) => a + b, 0)).toBe(120 * 90);
    // classAt answers from the warped map, in scene pixels: label (x, y) covers scene ((x + ½)·640/120, …).
    const sx = (10.5 * f1.width) / 120;
    const sy = (40.5 * f1.height) / 90;
    expect(stage.classAt(sx, sy)).toBe(key.classes[key.labels[37 * 120 + 13] as number]);
    // No flow: the key map stands as it is.
    await stage.onScene({ scene: f2, eye0: null, eye1: null });
    expect(stage.latest()).toBe(key);
    // The policy saw the frame, the key's scale and confidence, and the battery; one decision per frame went out.
    expect(policy.inputs[1]?.last).toEqual({ tNs: f0.tNs, scale: 0.75, confidence: key.confidence });
    expect(policy.inputs[1]?.scene).toBe(f1.mat);
    expect(policy.inputs[0]?.battery).toBe(0.5);
    expect(policy.runs).toHaveLength(1);
    expect(decisions.map((d) => [d.tNs, d.run])).toEqual([
      [f0.tNs, true],
      [f1.tNs, false],
      [f2.tNs, false],
    ]);
    const s = stage.stats();
    expect(s.scales).toEqual({ '1': 0, '0.75': 1, '0.5': 0, '0.25': 0, reuse: 2 });
    expect(s.framesWarped).toBe(1);
    expect(s.keyShare).toBeCloseTo(1 / 3, 3);
    // No full-scale frame ran: the full-scale time is estimated from the manifest's per-scale cost table.
    expect(s.fullScaleMsFrom).toBe('manifest-cost-ratio');
    expect(s.everyFrameFullScaleMs).toBeGreaterThan(s.modelMs);
  }, 60_000);
});
