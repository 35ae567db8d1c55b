import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { REPO_ROOT } from '../../device/paths.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { verifyModelDir } from '../../models/verify.ts';
import { compareVersions } from '../../models/versions.ts';
import { SEGMENTATION_SCALES } from '../../pipelines/segmentation/config.ts';
import { scaledSize } from '../../pipelines/segmentation/preprocess.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
const RUNS = 150;

interface ScaleRow {
  scale: number;
  miou: number;
  boundaryF2: number;
}
interface Variant {
  li: string;
  heldOut: Record<string, number | null>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `segmentation.scale75.p50_ms` etc.: the scale in percent, so metric names stay dotted words. */
function tag(scale: number): string {
  return `scale${Math.round(scale * 100)}`;
}

/**
 * `glance bench --only segmentation`: the zoo's segmentation network in onnxruntime-node (batch 1, one intra-op
 * thread) at each input scale the device runs, and its held-out quality from its manifest — LI-Convs against the
 * same network without LI, and per scale (measured by the toolchain on synthetic held-out frames).
 */
export async function benchSegmentation(zoo = join(ROOT, 'models/zoo')): Promise<Metric[]> {
  const version = readdirSync(join(zoo, 'segmentation')).sort(compareVersions).at(-1);
  if (!version) throw new Error(`no segmentation model in ${zoo}`);
  const verified = verifyModelDir(join(zoo, 'segmentation', version), [
    readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem')),
  ]);
  const m = verified.manifest;
  const resize = m.inputs[0]?.normalisation?.resize as { width: number; height: number };
  const session = await ort.InferenceSession.create(verified.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out: Metric[] = [];
  let fullP50 = Number.NaN;
  try {
    for (const scale of SEGMENTATION_SCALES) {
      const { width, height } = scaledSize(resize, scale);
      const data = Float32Array.from({ length: 3 * width * height }, () => Math.random());
      const feeds = { [m.inputs[0]?.name ?? 'image']: new ort.Tensor('float32', data, [1, 3, height, width]) };
      for (let i = 0; i < 10; i++) await session.run(feeds);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        await session.run(feeds);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      if (scale === 1) fullP50 = p50;
      const note = `onnxruntime-node, ${width}x${height}, batch 1, 1 thread`;
      out.push({ name: `segmentation.${tag(scale)}.p50_ms`, value: p50, unit: 'ms', better: 'lower', note });
      out.push({
        name: `segmentation.${tag(scale)}.p99_ms`,
        value: percentile(times, 99),
        unit: 'ms',
        better: 'lower',
        note,
      });
      if (scale !== 1) {
        out.push({
          name: `segmentation.${tag(scale)}.cost_ratio`,
          value: p50 / fullP50,
          unit: 'x',
          better: 'lower',
          baseline: { name: 'segmentation.scale100.p50_ms', value: fullP50 },
          note: 'p50 at this scale / p50 at full scale',
        });
      }
    }
  } finally {
    await session.release();
  }
  out.push(...qualityMetrics(m.metrics as Record<string, unknown>, m.version));
  return out;
}

function qualityMetrics(metrics: Record<string, unknown>, version: string): Metric[] {
  const out: Metric[] = [];
  const comparison = metrics.comparison as { winner: string; variants: Record<string, Variant> } | undefined;
  const li = comparison?.variants.li?.heldOut;
  const base = comparison?.variants.baseline?.heldOut;
  const note = `held-out synthetic frames (toolchain), segmentation@${version}`;
  if (li && base) {
    for (const [key, name] of [
      ['test_miou', 'miou'],
      ['test_boundary_f2', 'boundary_f2'],
      ['test_boundary_f1', 'boundary_f1'],
    ] as const) {
      const v = li[key];
      const b = base[key];
      if (typeof v !== 'number' || typeof b !== 'number') continue;
      out.push({
        name: `segmentation.li.${name}`,
        value: v,
        unit: 'fraction',
        better: 'higher',
        baseline: { name: `segmentation.no_li.${name}`, value: b },
        note: `LI-ASPP + LI-MNV2 vs the same network without LI; ${note}`,
      });
    }
  }
  const scales = metrics.scales as ScaleRow[] | undefined;
  for (const row of scales ?? []) {
    out.push({
      name: `segmentation.${tag(row.scale)}.miou`,
      value: row.miou,
      unit: 'fraction',
      better: 'higher',
      note: `shipped model (${comparison?.winner ?? '?'}) at this input scale, scored at base size; ${note}`,
    });
  }
  return out;
}
