import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { pythonExecutable, TRAIN_DIR } from '../../device/commands/train.ts';
import { defaultModelsConfig } from '../../models/config.ts';
import { readGolden } from '../../models/golden.ts';
import { checkParity } from '../../models/parity.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { glance, ROOT, tmp } from '../helpers/cli.ts';

/**
 * The toolchain's head refit from exported answers (glance_train.emotion.head_from_labels) produces a model the
 * device runs: onnxruntime-node gives the golden logits the toolchain computed in numpy from the new head, and the
 * registry loads it once `glance sign` has signed it. Answers are synthetic (glance_train.emotion.synthetic_answers).
 */
const BASE = join(ROOT, 'models/zoo/emotion-ship/1.2.0');

function python(module: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PYTHONPATH: TRAIN_DIR };
  const r = spawnSync(pythonExecutable(), ['-m', module, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('emotion head refit from exported answers', () => {
  it('writes a model that passes parity in onnxruntime-node and loads in the registry once signed', async () => {
    const work = tmp('glance-head-labels-');
    const labels = join(work, 'labels.json');
    const made = python('glance_train.emotion.synthetic_answers', ['--model', BASE, '--out', labels, '--count', '120']);
    expect(made.status, made.stderr).toBe(0);
    const zoo = join(work, 'zoo');
    const out = join(zoo, 'emotion-ship', '1.2.1');
    const args = ['--labels', labels, '--model', BASE, '--version', '1.2.1', '--out', out];
    const fit = python('glance_train.emotion.head_from_labels', args);
    expect(fit.status, fit.stderr).toBe(0);
    const summary = JSON.parse(fit.stdout) as { heldOutAccuracyBefore: number; heldOutAccuracyAfter: number };
    expect(summary.heldOutAccuracyAfter).toBeGreaterThanOrEqual(summary.heldOutAccuracyBefore);

    const parity = await checkParity(out);
    expect(parity.ok, parity.message).toBe(true);
    // The new logits differ from the base's on the same inputs: the parity above is about the new head.
    const base = readGolden(join(BASE, 'golden.json')).outputs.logits?.data;
    const mine = readGolden(join(out, 'golden.json')).outputs.logits?.data;
    expect(base && mine && Math.max(...mine.map((v, i) => Math.abs(v - (base[i] ?? 0))))).toBeGreaterThan(1e-3);

    const signed = glance(['sign', '--key', join(ROOT, 'tools/keys/dev.key.pem'), out]);
    expect(signed.status, signed.stderr).toBe(0);
    const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));
    const reg = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: zoo }, trustedKeys: [devKey] });
    try {
      const outcome = await reg.activate('emotion-ship', '1.2.1');
      expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
      const golden = readGolden(join(out, 'golden.json'));
      const feeds = Object.fromEntries(
        Object.entries(golden.inputs).map(([k, t]) => [k, new ort.Tensor('float32', t.data, [...t.dims])]),
      );
      const result = await reg.run('emotion-ship', feeds);
      expect(result.model).toBe('emotion-ship@1.2.1');
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
        provenance: { baseModel: string };
      };
      expect(manifest.provenance.baseModel).toBe('emotion-ship@1.2.0');
    } finally {
      await reg.close();
    }
  }, 60_000);
});
