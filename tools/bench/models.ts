import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { pythonExecutable, TRAIN_DIR } from '../../device/commands/train.ts';
import { REPO_ROOT } from '../../device/paths.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import type { Manifest } from '../../models/manifest.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { generateSigningKey, readTrustedKey, signManifest } from '../../models/signing.ts';
import { verifyModelDir } from '../../models/verify.ts';
import { compareVersions } from '../../models/versions.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
const ZOO = join(ROOT, 'models/zoo');
const BATCHES = [1, 4, 16, 64];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A spec's shape with its symbolic dimensions filled in: spatial ones from the manifest's resize, the rest `batch`. */
export function concreteDims(spec: Manifest['inputs'][number], batch: number): number[] {
  const size = (spec.normalisation?.resize ?? {}) as { width?: unknown; height?: unknown };
  return spec.shape.map((d) => {
    if (typeof d === 'number') return d;
    if (d === 'height' && typeof size.height === 'number') return size.height;
    if (d === 'width' && typeof size.width === 'number') return size.width;
    return batch;
  });
}

function feeds(manifest: Manifest, batch: number): Record<string, ort.Tensor> {
  return Object.fromEntries(
    manifest.inputs.map((spec) => {
      const dims = concreteDims(spec, batch);
      const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random());
      return [spec.name, new ort.Tensor('float32', data, dims)];
    }),
  );
}

async function latency(
  session: ort.InferenceSession,
  manifest: Manifest,
  batch: number,
  runs: number,
): Promise<number[]> {
  const f = feeds(manifest, batch);
  for (let i = 0; i < 20; i++) await session.run(f);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(f);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** Per intra-op thread count: batch-1 latency, and throughput at the best of a few batch sizes. */
async function runtimeMetrics(name: string, m: Manifest, bytes: Uint8Array): Promise<Metric[]> {
  const out: Metric[] = [];
  for (const threads of [1, 2]) {
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    const suffix = threads === 1 ? '' : `.t${threads}`;
    const t = await latency(session, m, 1, 400);
    const note = `onnxruntime-node, batch 1, intra-op threads ${threads}`;
    out.push({ name: `models.${name}${suffix}.p50_ms`, value: percentile(t, 50), unit: 'ms', better: 'lower', note });
    out.push({ name: `models.${name}${suffix}.p99_ms`, value: percentile(t, 99), unit: 'ms', better: 'lower', note });
    let best = { batch: 1, perS: 0 };
    for (const batch of BATCHES) {
      const times = await latency(session, m, batch, Math.max(20, Math.round(400 / batch)));
      const perS = (batch * 1000) / percentile(times, 50);
      if (perS > best.perS) best = { batch, perS };
    }
    out.push({
      name: `models.${name}${suffix}.throughput_per_s`,
      value: best.perS,
      unit: 'inferences/s',
      better: 'higher',
      note: `best batch ${best.batch} of ${BATCHES.join('/')}, intra-op threads ${threads}`,
    });
    await session.release();
  }
  return out;
}

/** The same network in PyTorch (a python subprocess), batch 1, one thread: the baseline of the ratio. */
function torchLatency(manifestFile: string, threads: number): { p50_ms: number; p99_ms: number } | undefined {
  try {
    const stdout = execFileSync(
      pythonExecutable(),
      ['-m', 'glance_train.bench_torch', '--manifest', manifestFile, '--threads', String(threads), '--runs', '300'],
      { encoding: 'utf8', env: { ...process.env, PYTHONPATH: TRAIN_DIR }, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return JSON.parse(stdout) as { p50_ms: number; p99_ms: number };
  } catch {
    return undefined; // no PyTorch on this machine: the ratio is left out, the rest still counts
  }
}

/**
 * Load + warm-up through the registry, and a hot swap between two copies of the model (re-versioned and signed
 * with a throwaway key in a temp dir) while inference keeps running: how long until the new version serves, and
 * the worst latency a concurrent caller saw meanwhile.
 */
async function registryMetrics(name: string, dir: string, m: Manifest): Promise<Metric[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'glance-bench-models-'));
  const key = generateSigningKey();
  const keyFile = join(tmp, 'bench.pub.pem');
  writeFileSync(keyFile, key.publicPem);
  for (const v of ['a', 'b']) {
    const target = join(tmp, 'zoo', name, v);
    cpSync(dir, target, { recursive: true });
    const raw = JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    raw.version = v;
    raw.signature = signManifest(raw, createPrivateKey(key.privatePem));
    writeFileSync(join(target, 'manifest.json'), JSON.stringify(raw));
  }
  const reg = new ModelRegistry({
    config: { ...defaultModelsConfig(), dir: join(tmp, 'zoo') },
    trustedKeys: [readTrustedKey(keyFile)],
  });
  try {
    const first = await reg.activate(name, 'a');
    if (!first.ok) throw new Error(`bench: ${first.reason}`);
    const t = first.timings;
    let stop = false;
    let worst = 0;
    const f = feeds(m, 1);
    const caller = (async () => {
      while (!stop) {
        const t0 = performance.now();
        await reg.run(name, f);
        worst = Math.max(worst, performance.now() - t0);
      }
    })();
    const t0 = performance.now();
    const swapped = await reg.activate(name, 'b');
    const swapMs = performance.now() - t0;
    stop = true;
    await caller;
    if (!swapped.ok) throw new Error(`bench: ${swapped.reason}`);
    return [
      {
        name: `models.${name}.load_ms`,
        value: t.verifyMs + t.sessionMs + t.ioMs,
        unit: 'ms',
        better: 'lower',
        note: 'verify + session + I/O check',
      },
      {
        name: `models.${name}.warmup_ms`,
        value: t.warmupMs,
        unit: 'ms',
        better: 'lower',
        note: `${defaultModelsConfig().warmupRuns} runs incl. golden check`,
      },
      {
        name: `models.${name}.swap_ms`,
        value: swapMs,
        unit: 'ms',
        better: 'lower',
        note: `activate → serving, under load; pointer swap ${swapped.timings.swapMs.toFixed(3)} ms`,
      },
      {
        name: `models.${name}.swap_worst_call_ms`,
        value: worst,
        unit: 'ms',
        better: 'lower',
        note: 'slowest concurrent inference during the swap',
      },
    ];
  } finally {
    await reg.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `glance bench --only models`: every model in models/zoo (its newest version). */
export async function benchModels(zoo = ZOO): Promise<Metric[]> {
  const metrics: Metric[] = [];
  const trusted = [readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'))];
  const names = existsSync(zoo) ? readdirSync(zoo).filter((n) => statSync(join(zoo, n)).isDirectory()) : [];
  for (const name of names.sort()) {
    const version = readdirSync(join(zoo, name)).sort(compareVersions).at(-1);
    if (!version) continue;
    const dir = join(zoo, name, version);
    const verified = verifyModelDir(dir, trusted);
    const m = verified.manifest;
    const rt = await runtimeMetrics(name, m, verified.bytes);
    metrics.push(...rt, ...(await registryMetrics(name, dir, m)));
    const ortP50 = rt.find((x) => x.name === `models.${name}.p50_ms`)?.value ?? Number.NaN;
    const torch = torchLatency(join(dir, 'manifest.json'), 1);
    if (torch) {
      metrics.push({
        name: `models.${name}.torch_p50_ms`,
        value: torch.p50_ms,
        unit: 'ms',
        better: 'lower',
        note: 'PyTorch eager, batch 1, 1 thread',
      });
      metrics.push({
        name: `models.${name}.speedup_vs_torch`,
        value: torch.p50_ms / ortP50,
        unit: 'x',
        better: 'higher',
        baseline: { name: `models.${name}.torch_p50_ms`, value: torch.p50_ms },
        note: 'PyTorch p50 / onnxruntime-node p50, batch 1, 1 thread',
      });
    }
  }
  return metrics;
}
