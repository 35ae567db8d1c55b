import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelsConfig } from '../../models/config.ts';
import { checkParity } from '../../models/parity.ts';
import { ModelRegistry } from '../../models/registry.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { verifyModelDir } from '../../models/verify.ts';
import { warmupFeeds } from '../../models/warmup.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ZOO = join(ROOT, 'models/zoo');
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const zoo = (isDir(ZOO) ? readdirSync(ZOO) : [])
  .filter((name) => isDir(join(ZOO, name)))
  .flatMap((name) => readdirSync(join(ZOO, name)).map((version) => ({ name, version, dir: join(ZOO, name, version) })));
const devKey = readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem'));

describe('the model zoo', () => {
  it('ships at least the pupil network', () => {
    expect(zoo.map((m) => m.name)).toContain('pupil');
  });

  describe.each(zoo)('$name@$version', ({ name, version, dir }) => {
    it('matches its golden outputs in onnxruntime-node (max |diff| within the golden tolerance)', async () => {
      const report = await checkParity(dir);
      expect(report.ok, report.message).toBe(true);
      expect(report.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    });

    it('is signed with the development key, declares synthetic data and held-out metrics', () => {
      const v = verifyModelDir(dir, [devKey]);
      expect(v.id).toBe(`${name}@${version}`);
      expect(v.manifest.dataset.synthetic).toBe(true);
      expect(v.manifest.dataset.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Object.keys(v.manifest.metrics.heldOut as object).length).toBeGreaterThan(0);
    });

    it('loads through the registry and reports name@version with every result', async () => {
      const reg = new ModelRegistry({ config: { ...defaultModelsConfig(), dir: ZOO }, trustedKeys: [devKey] });
      try {
        const outcome = await reg.activate(name, version);
        expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
        const feeds = warmupFeeds(verifyModelDir(dir, [devKey]).manifest, undefined);
        expect((await reg.run(name, feeds)).model).toBe(`${name}@${version}`);
      } finally {
        await reg.close();
      }
    });
  });
});
