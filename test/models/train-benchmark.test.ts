import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { glance, tmp } from '../helpers/cli.ts';

/**
 * `glance train metric-robustness`: the robust metric learning benchmark through the real CLI and toolchain
 * (bad `--set` keys are the Python CLI's business: tools/train/tests/test_metric.py).
 */
describe('glance train metric-robustness', () => {
  it('refuses flags that only a model experiment understands', () => {
    const r = glance(['train', 'metric-robustness', '--world-size', '2', '--no-export']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--world-size, --no-export only apply to model experiments/);
  });

  it('runs a one-seed benchmark on iris and writes the report', () => {
    const out = tmp();
    const args = ['--set', 'seeds=1', '--set', 'datasets=iris', '--set', 'noise=0,0.5', '--quiet', '--out', out];
    const r = glance(['train', 'metric-robustness', ...args]);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'metric_robustness.json'), 'utf8'));
    const methods = report.datasets.iris.methods;
    expect(Object.keys(methods)).toEqual(['euclidean', 'lmnn', 'lmnn-pl']);
    for (const m of Object.values(methods) as { accuracy_mean: number[] }[]) {
      expect(m.accuracy_mean).toHaveLength(2);
      expect(m.accuracy_mean[0]).toBeGreaterThan(0.8); // iris: 3-NN is far above chance (1/3)
    }
    expect(existsSync(join(out, 'metric_robustness.png'))).toBe(true);
    const bench = JSON.parse(readFileSync(join(out, 'metric.metrics.json'), 'utf8'));
    expect(bench.metrics.map((m: { name: string }) => m.name)).toContain('metric.pl_minus_lmnn_noisy');
  });
});
