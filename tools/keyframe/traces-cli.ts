/**
 * Traces for training the key scheduler, computed by the device's own flow and features (parity by
 * construction): for every frame t of each sequence and every earlier key k within the longest interval, the
 * deviation of t from k and the mIoU of k's true labels propagated to t by flow.
 *
 *   tsx tools/keyframe/traces-cli.ts --max-interval 12 --out traces.json SEQ_DIR…
 *
 * Written as JSON: `deviation` holds, per sequence, N·K rows of the DEVIATION_FIELDS at index t·K + (age − 1)
 * (null where k < 0), `miou` the matching N·K values. glance_train.keyframe.traces reads it.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameDeviation } from '../../pipelines/schedulers/deviation.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { warpLabels } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { frameMeanIoU } from '../../pipelines/schedulers/quality.ts';
import { type LabelledSequence, readSequence } from './sequences.ts';

export const DEVIATION_FIELDS = ['meanAbsDiff', 'residual', 'poorBlocks', 'flowMean', 'flowSpread', 'outside'] as const;

export interface SequenceTrace {
  readonly name: string;
  readonly frames: number;
  readonly deviation: (number[] | null)[];
  readonly miou: (number | null)[];
}

export function traceSequence(seq: LabelledSequence, maxInterval: number): SequenceTrace {
  const n = seq.frames.length;
  const deviation: (number[] | null)[] = [];
  const miou: (number | null)[] = [];
  for (let t = 0; t < n; t++) {
    for (let age = 1; age <= maxInterval; age++) {
      const k = t - age;
      if (k < 0) {
        deviation.push(null);
        miou.push(null);
        continue;
      }
      const current = seq.frames[t] as (typeof seq.frames)[number];
      const key = seq.frames[k] as (typeof seq.frames)[number];
      const flow = denseFlow(current, key);
      const dev = frameDeviation(current, key, flow);
      deviation.push(DEVIATION_FIELDS.map((f) => Number(dev[f].toPrecision(6))));
      const warped = warpLabels(seq.labels[k] as (typeof seq.labels)[number], flow);
      miou.push(Number(frameMeanIoU(warped, seq.labels[t] as (typeof seq.labels)[number], seq.classes).toFixed(6)));
    }
  }
  return { name: seq.name, frames: n, deviation, miou };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'max-interval': { type: 'string', default: '12' }, out: { type: 'string' } },
  });
  const k = Number(values['max-interval']);
  if (!Number.isInteger(k) || k < 1 || !values.out || positionals.length === 0) {
    process.stderr.write('usage: traces-cli.ts --max-interval K --out FILE.json SEQ_DIR…\n');
    process.exit(2);
  }
  const sequences = positionals.map((dir) => {
    const trace = traceSequence(readSequence(dir), k);
    process.stderr.write(`traced ${dir}\n`);
    return trace;
  });
  writeFileSync(values.out, JSON.stringify({ maxInterval: k, fields: DEVIATION_FIELDS, sequences }));
}

if (import.meta.url === `file://${process.argv[1]}`) main();
