/**
 * How much the wearer's answers help the personal emotion head, measured (docs/labels.md):
 *
 *   PYTHONPATH=tools/train python3 -m glance_train.emotion.heldout --out /tmp/w7300 --clips 140 --seed 7300 \
 *     --wearers 1 --shift-openness -0.2 --shift-squint 0.45
 *   node --import ./node_modules/tsx/dist/esm/index.mjs tools/labels/personal-head-curve.ts /tmp/w7300
 *
 * Runs the zoo's emotion-ship model over one synthetic wearer's windows, then for k answers drawn at random (as
 * the label queue's answers arrive: unbalanced) fits a head with each fit option set and reports the change in
 * accuracy on the windows no draw trains on, averaged over 30 draws, and a balanced draw of 3 per class.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
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
const model = join(import.meta.dirname, '../../models/zoo/emotion-ship/1.0.0/model.onnx');
const session = await ort.InferenceSession.create(readFileSync(model), { intraOpNumThreads: 1, interOpNumThreads: 1 });
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
const seen = new Map<number, number>();
const balanced: number[] = [];
const rest: number[] = [];
examples.forEach((e, i) => {
  const c = seen.get(e.label) ?? 0;
  seen.set(e.label, c + 1);
  (c < 3 ? balanced : rest).push(i);
});
const options: [string, FitOptions][] = [
  ['DEFAULT_FIT (bias, 300 epochs)', DEFAULT_FIT],
  ['bias, 100 epochs', { ...DEFAULT_FIT, epochs: 100 }],
  ['no bias, 300 epochs', { ...DEFAULT_FIT, bias: false }],
  ['ANSWER_FIT (no bias, 100 epochs)', ANSWER_FIT],
];
console.log(`${dir}: ${examples.length} windows, population accuracy ${accuracy(population, examples).toFixed(3)}`);
for (const [name, fit] of options) {
  const cells = ks.map((k, n) => {
    const gains = (draws[n] ?? []).map(({ order }) => {
      const test = pick(order.slice(HOLD_OUT_FROM));
      return accuracy(fitHead(population, pick(order.slice(0, k)), fit).head, test) - accuracy(population, test);
    });
    return `${k} answers ${signed(mean(gains))} pts (worse in ${gains.filter((g) => g < 0).length}/30)`;
  });
  const test = pick(rest);
  const gain = accuracy(fitHead(population, pick(balanced), fit).head, test) - accuracy(population, test);
  console.log(`  ${name}: ${cells.join(', ')}; 3 per class ${signed(gain)} pts`);
}
