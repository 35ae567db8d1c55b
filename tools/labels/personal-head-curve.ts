/**
 * How much the wearer's answers help the personal emotion head, measured (docs/labels.md):
 *
 *   PYTHONPATH=tools/train python3 -m glance_train.emotion.heldout --out /tmp/w7300 --clips 140 --seed 7300 \
 *     --wearers 1 --shift-openness -0.2 --shift-squint 0.45
 *   node --import ./node_modules/tsx/dist/esm/index.mjs tools/labels/personal-head-curve.ts /tmp/w7300
 *
 * Runs the zoo's newest emotion-ship model (or MODEL_VERSION) over one synthetic wearer's windows, then for k
 * answers drawn at random (as the label queue's answers arrive: unbalanced) fits a head with each fit option set
 * and reports the change in accuracy on the windows no draw trains on, averaged over 30 draws, and over 15 balanced
 * draws of 3 per class (as personal-head.test.ts draws them).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareVersions } from '../../models/versions.ts';
import {
  ANSWER_FIT,
  accuracy,
  DEFAULT_FIT,
  type FitOptions,
  fitHead,
  type LabelledExample,
  zeroHead,
} from '../../pipelines/emotion/personal-head.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: personal-head-curve.ts HELDOUT_DIR (glance_train.emotion.heldout --out)');
const meta = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8')) as {
  labels: number[];
  shapes: Record<string, number[]>;
};
const read = (name: string) => {
  const b = readFileSync(join(dir, `${name}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const zoo = join(import.meta.dirname, '../../models/zoo/emotion-ship');
const version =
  process.env.MODEL_VERSION ??
  readdirSync(zoo)
    .filter((v) => existsSync(join(zoo, v, 'manifest.json')))
    .sort(compareVersions)
    .at(-1);
if (!version) throw new Error(`no emotion-ship model in ${zoo}`);
const manifest = JSON.parse(readFileSync(join(zoo, version, 'manifest.json'), 'utf8')) as {
  metrics: { confusion: { matrix: number[][] } };
};
/** The population's class mix (rows of its held-out confusion matrix): what balanced answers stand for. */
const prior = manifest.metrics.confusion.matrix.map((row) => row.reduce((a, b) => a + b, 0));
const session = await ort.InferenceSession.create(readFileSync(join(zoo, version, 'model.onnx')), {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
const arrays = new Map(session.inputNames.map((n) => [n, read(n)]));
const examples: LabelledExample[] = [];
for (let i = 0; i < meta.labels.length; i++) {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, data] of arrays) {
    const shape = meta.shapes[name] as number[];
    const per = shape.slice(1).reduce((a, b) => a * b, 1);
    feeds[name] = new ort.Tensor('float32', data.slice(i * per, (i + 1) * per), [1, ...shape.slice(1)]);
  }
  const out = await session.run(feeds);
  examples.push({
    embedding: Float32Array.from(out.embedding?.data as Float32Array),
    logits: Float32Array.from(out.logits?.data as Float32Array),
    label: meta.labels[i] as number,
  });
}
await session.release();

let state = 1; // a fixed LCG: every fit option set sees the same draws
const rnd = () => {
  state = (state * 1103515245 + 12345) % 2 ** 31;
  return state / 2 ** 31;
};
const HOLD_OUT_FROM = 40; // draws train on at most the first 40 of a shuffle; the rest is held out
const ks = [5, 10, 20];
const draws = ks.map(() =>
  Array.from({ length: 30 }, () => {
    const order = examples.map((_, j) => j).sort(() => rnd() - 0.5);
    return { order };
  }),
);
const dim = examples[0]?.embedding.length ?? 0;
const population = zeroHead(7, dim);
const pick = (idx: number[]) => idx.map((i) => examples[i] as LabelledExample);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const signed = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;
const balancedDraws = Array.from({ length: 15 }, () => {
  const order = examples.map((_, j) => j).sort(() => rnd() - 0.5);
  const seen = new Map<number, number>();
  const train: number[] = [];
  const test: number[] = [];
  for (const i of order) {
    const c = seen.get(examples[i]?.label ?? 0) ?? 0;
    seen.set(examples[i]?.label ?? 0, c + 1);
    (c < 3 ? train : test).push(i);
  }
  return { train, test };
});
const options: [string, FitOptions][] = [
  ['bias, 300 epochs (DEFAULT_FIT before 1.1.0)', { ...DEFAULT_FIT, bias: true }],
  ['bias, 100 epochs', { ...DEFAULT_FIT, bias: true, epochs: 100 }],
  ['DEFAULT_FIT (no bias, 300 epochs)', DEFAULT_FIT],
  ['DEFAULT_FIT, answers weighted to the population mix', { ...DEFAULT_FIT, balanced: true, prior }],
  ['ANSWER_FIT (no bias, 100 epochs)', ANSWER_FIT],
];
console.log(
  `${dir}: emotion-ship@${version}, ${examples.length} windows, population accuracy ` +
    accuracy(population, examples).toFixed(3),
);
for (const [name, fit] of options) {
  const cells = ks.map((k, n) => {
    const gains = (draws[n] ?? []).map(({ order }) => {
      const test = pick(order.slice(HOLD_OUT_FROM));
      return accuracy(fitHead(population, pick(order.slice(0, k)), fit).head, test) - accuracy(population, test);
    });
    return `${k} answers ${signed(mean(gains))} pts (worse in ${gains.filter((g) => g < 0).length}/30)`;
  });
  const per = balancedDraws.map(({ train, test }) => {
    const t = pick(test);
    return accuracy(fitHead(population, pick(train), fit).head, t) - accuracy(population, t);
  });
  const worse = per.filter((g) => g < 0).length;
  console.log(`  ${name}: ${cells.join(', ')}; 3 per class ${signed(mean(per))} pts (worse in ${worse}/15)`);
}
