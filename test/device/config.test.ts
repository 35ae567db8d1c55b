import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../device/config.ts';
import { BadInputError } from '../../device/errors.ts';

describe('config', () => {
  it('fills defaults from an empty file', () => {
    const c = parseConfig({});
    expect(c.device.id).toBe('glance-dev');
    expect(c.source).toEqual({ type: 'replay', session: 'sample/session', pace: 'fast' });
    expect(c.pipeline.pairingMaxSkewMs).toBe(20);
  });

  it('rejects an unknown key and names its path', () => {
    expect(() => parseConfig({ pipeline: { pairingMaxSkewMs: 10, queueDeph: 3 } })).toThrow(/pipeline\.queueDeph/);
    expect(() => parseConfig({ typo: 1 })).toThrow(BadInputError);
  });

  it('names the path of an out-of-range value and of a bad camera in a live source', () => {
    expect(() => parseConfig({ storage: { batchSize: 0 } })).toThrow(/storage\.batchSize/);
    expect(() => parseConfig({ source: { type: 'live', cameras: { eye0: { uri: '' } } } })).toThrow(
      /source\.cameras\.eye0\.uri/,
    );
  });

  it('reads YAML and reports a file that is not YAML with its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'glance-config-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'device:\n  id: test-1\nsource:\n  type: live\n  cameras:\n    scene: { uri: 0 }\n');
    const c = loadConfig(good);
    expect(c.device.id).toBe('test-1');
    expect(c.source.type).toBe('live');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'device: [unclosed\n');
    expect(() => loadConfig(bad)).toThrow(/bad\.yaml/);
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml/);
  });
});
