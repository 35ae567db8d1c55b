import { join } from 'node:path';
import cv, { type Mat } from '../../device/opencv.ts';
import { REPO_ROOT } from '../../device/paths.ts';
import { modelsConfigSchema } from '../../models/config.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { IncrementalClusterer } from '../../pipelines/faces/clustering.ts';
import { facesConfigSchema } from '../../pipelines/faces/config.ts';
import { CROP_SIDE } from '../../pipelines/faces/crops.ts';
import { TrackEmbedder } from '../../pipelines/faces/embedder.ts';
import { faceModelFacts } from '../../pipelines/faces/index.ts';
import { FacesStage } from '../../pipelines/faces/stage.ts';
import type { Metric } from './report.ts';

const ROOT = REPO_ROOT;
const MEGAMIND = '/usr/share/doc/opencv-doc/examples/data/Megamind.avi';
const SAMPLE_SCENE = join(ROOT, 'sample/session/scene.mp4');

function readFrames(file: string, n: number): Mat[] {
  const cap = new cv.VideoCapture(file);
  const frames: Mat[] = [];
  for (let m = cap.read(); !m.empty && frames.length < n; m = cap.read()) frames.push(m);
  cap.release();
  return frames;
}

/** Stage cost per scene frame (detection every frame, tracking, crops), decoding excluded. */
async function stageMsPerFrame(file: string, n: number): Promise<{ ms: number; tracks: number }> {
  const frames = readFrames(file, n);
  let tracks = 0;
  const stage = new FacesStage(facesConfigSchema.parse({ enabled: true }), () => {
    tracks++;
  });
  const t0 = performance.now();
  for (const [i, m] of frames.entries()) await stage.onFrame(m, BigInt(i) * 33_333_333n);
  await stage.finish();
  const ms = (performance.now() - t0) / frames.length;
  for (const m of frames) m.release();
  return { ms, tracks };
}

/** Unit vectors around `people` random directions: what the clusterer sees from a day of tracks. */
function syntheticEmbeddings(n: number, people: number, dim: number): Float32Array[] {
  let s = 12_345;
  const rand = () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
  const centres = Array.from({ length: people }, () => Float32Array.from({ length: dim }, rand));
  return Array.from({ length: n }, (_, i) => {
    const c = centres[i % people] as Float32Array;
    const e = c.map((v) => v + 0.15 * rand());
    const norm = Math.hypot(...e);
    return e.map((v) => v / norm);
  });
}

/** The exponent k of time ∝ tracks^k, least squares on log-log over the measured sizes. */
export function growthExponent(points: readonly { n: number; ms: number }[]): number {
  const xs = points.map((p) => Math.log(p.n));
  const ys = points.map((p) => Math.log(p.ms));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (const [i, x] of xs.entries()) {
    num += (x - mx) * ((ys[i] as number) - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

function clusterMs(n: number): { ms: number; people: number } {
  const data = syntheticEmbeddings(n, Math.max(10, Math.round(n / 20)), 64);
  let id = 0;
  const c = new IncrementalClusterer(0.3, () => `p${id++}`);
  const t0 = performance.now();
  for (const e of data) c.add(e);
  return { ms: performance.now() - t0, people: c.people.size };
}

export async function benchFaces(): Promise<Metric[]> {
  const withFaces = await stageMsPerFrame(MEGAMIND, 90);
  const noFaces = await stageMsPerFrame(SAMPLE_SCENE, 90);
  const models = modelsConfigSchema.parse({
    dir: join(ROOT, 'models/zoo'),
    trustedKeys: [join(ROOT, 'models/keys/dev.pub.pem')],
  });
  const registry = new ModelRegistry({ config: models, trustedKeys: models.trustedKeys.map(readTrustedKey) });
  await registry.start(['face-track']);
  const facts = faceModelFacts(registry, 'face-track');
  const embedder = new TrackEmbedder((f) => registry.run('face-track', f), facts.seqLen, facts.inputSize);
  const crops = Array.from({ length: facts.seqLen }, (_, k) =>
    new Uint8Array(CROP_SIDE * CROP_SIDE).map((_, i) => (i * 7 + k) % 251),
  );
  for (let i = 0; i < 5; i++) await embedder.embed(crops); // warm-up
  const runs = 50;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await embedder.embed(crops);
  const embedMs = (performance.now() - t0) / runs;
  // the held-out numbers of the version the device would load (the registry's preferred one)
  const serving = registry.servingModel('face-track')?.manifest;
  if (serving === undefined) throw new Error('face-track is not loaded');
  const held = serving.metrics as {
    heldOut: { test_nmi: number; test_wcp: number };
    baselines: { test_pooled_nmi: number; test_pooled_wcp: number };
  };
  const modelId = `face-track@${serving.version}`;
  await registry.close();
  const c1k = clusterMs(1_000);
  const c3k = clusterMs(3_000);
  const c10k = clusterMs(10_000);
  const growth = growthExponent([
    { n: 1_000, ms: c1k.ms },
    { n: 3_000, ms: c3k.ms },
    { n: 10_000, ms: c10k.ms },
  ]);
  return [
    {
      name: 'faces.stage_ms_per_frame',
      value: withFaces.ms,
      unit: 'ms',
      better: 'lower',
      note: `Megamind.avi, ${withFaces.tracks} tracks`,
    },
    {
      name: 'faces.stage_ms_per_frame_no_faces',
      value: noFaces.ms,
      unit: 'ms',
      better: 'lower',
      note: 'sample session scene (synthetic, no faces); detection on every frame (the default runs every 3rd)',
    },
    {
      name: 'faces.embed_ms_per_track',
      value: embedMs,
      unit: 'ms',
      better: 'lower',
      note: `${facts.seqLen} crops, onnxruntime-node CPU`,
    },
    { name: 'faces.cluster_ms_1k', value: c1k.ms, unit: 'ms', better: 'lower', note: `${c1k.people} people` },
    {
      name: 'faces.cluster_ms_10k',
      value: c10k.ms,
      unit: 'ms',
      better: 'lower',
      baseline: { name: 'faces.cluster_ms_1k', value: c1k.ms },
      note: `${c10k.people} people; incremental average linkage: O(tracks × people)`,
    },
    {
      name: 'faces.cluster_growth_exponent',
      value: growth,
      unit: '',
      better: 'lower',
      note: `time ∝ tracks^k fitted over 1k/3k/10k tracks (3k: ${c3k.ms.toFixed(0)} ms); people grow with tracks (1 per 20), so O(tracks × people) bounds k by 2`,
    },
    {
      name: 'faces.nmi',
      value: held.heldOut.test_nmi,
      unit: '',
      better: 'higher',
      baseline: { name: 'faces.pooled_nmi', value: held.baselines.test_pooled_nmi },
      note: `${modelId} manifest: held-out synthetic people, number of people known`,
    },
    {
      name: 'faces.wcp',
      value: held.heldOut.test_wcp,
      unit: '',
      better: 'higher',
      baseline: { name: 'faces.pooled_wcp', value: held.baselines.test_pooled_wcp },
      note: `${modelId} manifest: weighted clustering purity, number of people known`,
    },
  ];
}
