import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../../models/registry.ts';
import {
  FIXTURES,
  firstY,
  installFixture,
  makeKey,
  readManifest,
  registry,
  rehashAndSign,
  type TestKey,
  tmpModels,
  writeManifest,
  xs,
} from './helpers.ts';

/**
 * Each broken model is installed as scale@2.0.0 next to a good scale@1.0.0 that is serving. Activation must be
 * refused at the right step, with a reason a developer can act on, while 1.0.0 keeps answering.
 */
describe('model registry refuses bad models and keeps the old one serving', () => {
  let root: string;
  let key: TestKey;
  let reg: ModelRegistry;

  beforeEach(async () => {
    root = tmpModels();
    key = makeKey();
    installFixture(root, 'scale', '1.0.0', key.privateKey);
    reg = registry(root, [key.trusted]);
    const first = await reg.activate('scale', '1.0.0');
    expect(first.ok).toBe(true);
  });

  afterEach(async () => {
    await reg.close();
  });

  async function expectRefused(stage: string, reason: RegExp): Promise<void> {
    const outcome = await reg.activate('scale', '2.0.0');
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.stage).toBe(stage);
    expect(outcome.reason).toMatch(reason);
    expect(outcome.serving).toBe('scale@1.0.0');
    const result = await reg.run('scale', xs(1, 3));
    expect(result.model).toBe('scale@1.0.0');
    expect(firstY(result.outputs)).toBeCloseTo(3);
    expect(reg.status().scale?.lastError?.stage).toBe(stage);
    const last = reg.history('scale').at(-1);
    expect(last?.kind).toBe('reject');
    expect(last?.reason).toContain(stage);
  }

  it('tampered model.onnx (sha256 no longer matches the signed manifest)', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    rehashAndSign(dir, key.privateKey, (m) => {
      m.version = '2.0.0';
    });
    const onnx = join(dir, 'model.onnx');
    const bytes = readFileSync(onnx);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x01;
    writeFileSync(onnx, bytes);
    await expectRefused('sha256', /model\.onnx has sha256 .* signed manifest says/);
  });

  it('tampered manifest (signature no longer matches)', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    rehashAndSign(dir, key.privateKey, (m) => {
      m.version = '2.0.0';
    });
    const m = readManifest(dir);
    m.metrics = { heldOut: { accuracy: 0.99 } };
    writeManifest(dir, m);
    await expectRefused('signature', /does not match the manifest/);
  });

  it('signed by a key the device does not trust', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    const stranger = makeKey();
    rehashAndSign(dir, stranger.privateKey, (m) => {
      m.version = '2.0.0';
    });
    await expectRefused('signature', new RegExp(`unknown key ${stranger.trusted.keyId}`));
  });

  it('inputs/outputs that differ from the manifest', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    rehashAndSign(dir, key.privateKey, (m) => {
      m.version = '2.0.0';
      (m.outputs as { shape: unknown[] }[])[0] = { ...(m.outputs as object[])[0], shape: ['batch', 5] } as never;
    });
    await expectRefused('io', /output y: manifest shape \[batch, 5\], model \[batch, 4\]/);
  });

  it('corrupt protobuf (hash and signature are fine, onnxruntime cannot parse it)', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    writeFileSync(join(dir, 'model.onnx'), Buffer.from('this is not a protobuf at all, just bytes'));
    rehashAndSign(dir, key.privateKey, (m) => {
      m.version = '2.0.0';
    });
    await expectRefused('session', /onnxruntime cannot load model\.onnx/);
  });

  it('a model that throws at warm-up', async () => {
    const dir = join(root, 'scale', '2.0.0');
    cpSync(join(FIXTURES, 'reshape', '1.0.0'), dir, { recursive: true });
    rehashAndSign(dir, key.privateKey, (m) => {
      m.name = 'scale';
      m.version = '2.0.0';
    });
    await expectRefused('warmup', /warm-up run failed: .*Reshape/);
  });

  it('outputs that differ from golden.json', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    cpSync(join(FIXTURES, 'scale', '1.0.0', 'golden.json'), join(dir, 'golden.json'));
    rehashAndSign(dir, key.privateKey, (m) => {
      m.version = '2.0.0';
    });
    await expectRefused('golden', /differ from golden\.json/);
  });

  it('a directory whose manifest names another version', async () => {
    installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    await expectRefused('manifest', /directory holds scale@1\.1\.0/);
  });

  it('a name or version that would leave the models directory', async () => {
    for (const [name, version] of [
      ['../scale', '1.0.0'],
      ['scale', '../../1.0.0'],
      ['scale', '.hidden'],
    ]) {
      const outcome = await reg.activate(name as string, version as string);
      expect(outcome).toMatchObject({ ok: false, stage: 'manifest' });
      expect(reg.inUse()).toEqual(['scale@1.0.0']);
    }
  });

  it('an unsigned manifest', async () => {
    const dir = installFixture(root, 'scale', '1.1.0', key.privateKey, '2.0.0');
    const m = readManifest(dir);
    delete m.signature;
    m.version = '2.0.0';
    writeManifest(dir, m);
    await expectRefused('signature', /not signed/);
  });
});

describe('activation, rollback and history', () => {
  it('activates, rolls back to the previous version, and walks back further on a second rollback', async () => {
    const root = tmpModels();
    const key = makeKey();
    installFixture(root, 'scale', '1.0.0', key.privateKey);
    installFixture(root, 'scale', '1.1.0', key.privateKey);
    const reg = registry(root, [key.trusted]);
    try {
      expect((await reg.start()).map((o) => o.ok && o.model)).toEqual(['scale@1.1.0']); // newest when none active
      expect((await reg.activate('scale', '1.0.0')).ok).toBe(true);
      expect((await reg.activate('scale', '1.1.0')).ok).toBe(true);
      expect(firstY((await reg.run('scale', xs(1, 1))).outputs)).toBeCloseTo(2);

      const back = await reg.rollback('scale');
      expect(back).toMatchObject({ ok: true, model: 'scale@1.0.0', previous: 'scale@1.1.0' });
      const r = await reg.run('scale', xs(1, 1));
      expect(r.model).toBe('scale@1.0.0');
      expect(firstY(r.outputs)).toBeCloseTo(1);

      expect(await reg.rollback('scale')).toMatchObject({ ok: true, model: 'scale@1.1.0' });
      const none = await reg.rollback('scale');
      expect(none).toMatchObject({ ok: false, stage: 'rollback', serving: 'scale@1.1.0' });
      expect(reg.history('scale').map((e) => `${e.kind} ${e.version}`)).toEqual([
        'activate 1.1.0',
        'activate 1.0.0',
        'activate 1.1.0',
        'rollback 1.0.0',
        'rollback 1.1.0',
      ]);
      expect(reg.inUse()).toEqual(['scale@1.1.0']);
    } finally {
      await reg.close();
    }
  });

  it('installs a verified model directory into the versioned layout and refuses to overwrite a version', async () => {
    const root = tmpModels();
    const src = tmpModels();
    const key = makeKey();
    const dir = installFixture(src, 'scale', '1.1.0', key.privateKey);
    const reg = registry(root, [key.trusted]);
    try {
      const r = await reg.install(dir);
      expect(r).toMatchObject({ model: 'scale@1.1.0', dir: join(reg.dir, 'scale', '1.1.0'), alreadyInstalled: false });
      expect(reg.versions('scale')).toEqual(['1.1.0']);
      expect((await reg.install(dir)).alreadyInstalled).toBe(true);

      const other = installFixture(tmpModels(), 'scale', '1.0.0', key.privateKey);
      rehashAndSign(other, key.privateKey, (m) => {
        m.version = '1.1.0';
      });
      await expect(reg.install(other)).rejects.toThrow(/already holds another build of scale@1\.1\.0/);
      const bad = installFixture(tmpModels(), 'scale', '1.0.0', makeKey().privateKey);
      await expect(reg.install(bad)).rejects.toThrow(/refused at signature: signed by unknown key/);
      expect(reg.versions('scale')).toEqual(['1.1.0']);
      expect(reg.history('scale').map((e) => e.kind)).toEqual(['install', 'reject', 'reject']);
    } finally {
      await reg.close();
    }
  });
});
