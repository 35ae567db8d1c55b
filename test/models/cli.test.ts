import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { registerExportCommand } from '../../device/commands/export.ts';
import { registerFlashCommand } from '../../device/commands/flash.ts';
import { registerModelsCommand } from '../../device/commands/models.ts';
import { registerKeygenCommand, registerSignCommand } from '../../device/commands/sign.ts';
import { registerTrainCommand } from '../../device/commands/train.ts';
import { exitCodeFor, messageOf } from '../../device/errors.ts';
import { glance as glanceCli } from '../helpers/cli.ts';
import { FIXTURES, readManifest, tmpModels } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The model commands as device/cli.ts will register them, run in this process on a fresh program (a subprocess
 * per call costs seconds of start-up); exit codes follow the CLI's contract.
 */
async function glance(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const program = new Command('glance').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const register of [
    registerModelsCommand,
    registerTrainCommand,
    registerExportCommand,
    registerSignCommand,
    registerKeygenCommand,
    registerFlashCommand,
  ]) {
    register(program);
  }
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  let status = 0;
  try {
    await program.parseAsync(['node', 'glance', ...args]);
    status = Number(process.exitCode ?? 0);
  } catch (error) {
    status = error instanceof CommanderError ? 2 : exitCodeFor(error);
    stderr += `glance: ${messageOf(error)}\n`;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
  return { status, stdout, stderr };
}

describe('glance keygen / sign / models / flash', () => {
  it('signs, installs, activates, lists, rolls back and refuses, with exit codes 0/2', async () => {
    const work = tmpModels();
    const dev = join(work, 'device');
    const keys = join(work, 'k');
    expect((await glance(['keygen', '--out', keys])).status).toBe(0);
    expect((await glance(['keygen', '--out', keys])).status).toBe(2); // never overwrites a key silently
    for (const v of ['1.0.0', '1.1.0']) {
      cpSync(join(FIXTURES, 'scale', v), join(work, v), { recursive: true });
      const signed = await glance(['sign', '--key', `${keys}.key.pem`, join(work, v)]);
      expect(signed.stdout).toMatch(new RegExp(`signed scale@${v} with key [0-9a-f]{16}`));
    }
    expect(readManifest(join(work, '1.0.0')).signature).toMatchObject({ alg: 'ed25519' });
    const where = ['--dir', join(dev, 'models'), '--db', join(dev, 'glance.db'), '--trusted-key', `${keys}.pub.pem`];

    const flashed = await glance(['flash', join(work, '1.0.0'), ...where]);
    expect(flashed.status, flashed.stderr).toBe(0);
    expect(flashed.stdout).toMatch(/scale@1\.0\.0 installed .*\n.*scale@1\.0\.0 active/);
    expect(existsSync(join(dev, 'models/scale/1.0.0/model.onnx'))).toBe(true);

    expect((await glance(['models', 'install', join(work, '1.1.0'), '--activate', ...where])).status).toBe(0);
    expect((await glance(['models', 'list', ...where])).stdout).toMatch(
      /^\s+scale@1\.0\.0\s+ok.*\n\*\s+scale@1\.1\.0\s+ok/m,
    );

    const back = await glance(['models', 'rollback', 'scale', ...where]);
    expect(back.stdout).toMatch(/scale@1\.0\.0 active/);
    const listed = JSON.parse((await glance(['models', 'list', '--json', ...where])).stdout) as {
      version: string;
      active: boolean;
    }[];
    expect(listed.filter((m) => m.active).map((m) => m.version)).toEqual(['1.0.0']);

    // A manifest edited after signing: refused with the reason, exit 2, nothing changes.
    const tampered = join(dev, 'models/scale/1.1.0/manifest.json');
    writeFileSync(tampered, readFileSync(tampered, 'utf8').replace('"task": "test-fixture"', '"task": "evil"'));
    const refused = await glance(['models', 'activate', 'scale', '1.1.0', ...where]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/scale@1\.1\.0 refused at signature: .*changed after signing/);
    const history = (await glance(['models', 'history', 'scale', ...where])).stdout;
    expect(history).toMatch(
      /install\s+scale@1\.0\.0[\s\S]*activate\s+scale@1\.1\.0\s+from 1\.0\.0[\s\S]*rollback\s+scale@1\.0\.0[\s\S]*reject\s+scale@1\.1\.0/,
    );
  });

  it('refuses to sign a manifest that does not describe the model beside it', async () => {
    const work = tmpModels();
    cpSync(join(FIXTURES, 'scale', '1.0.0'), work, { recursive: true });
    cpSync(join(FIXTURES, 'scale', '1.1.0', 'model.onnx'), join(work, 'model.onnx'));
    const r = await glance(['sign', '--key', join(ROOT, 'tools/keys/dev.key.pem'), join(work, 'manifest.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/sha256 does not match/);
  });

  it('train checks its arguments and passes the toolchain’s exit code through', async () => {
    expect((await glance(['train', 'pupil', '--world-size', '0'])).status).toBe(2);
    expect((await glance(['models', 'activate', 'pupil'])).status).toBe(2); // missing <version>
    // The real process boundary once: bin/glance → commander → python (exit 2 from the toolchain, message on stderr).
    const r = glanceCli(['train', 'no-such-model']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no experiment 'no-such-model'/);
  });
});
