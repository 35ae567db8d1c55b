import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRejectedError } from './errors.ts';
import { type LoaderDeps, prepareModel } from './loader.ts';
import type { ModelStore } from './store.ts';
import { verifyModelDir } from './verify.ts';

export interface InstallDeps extends LoaderDeps {
  readonly dir: string;
  readonly store: ModelStore;
  readonly now: () => number;
}

export interface InstallResult {
  readonly model: string;
  readonly dir: string;
  readonly alreadyInstalled: boolean;
}

/**
 * Copies a model directory into `<dir>/<name>/<version>/` once it has passed every check a load makes (the
 * trial session is released again). Installed versions are immutable: the same version with other bytes is
 * refused. The copy is staged beside its final place and renamed, so a crash never leaves half a model.
 */
export async function installModel(src: string, deps: InstallDeps): Promise<InstallResult> {
  const prepared = await prepareModel(src, deps);
  await prepared.model.retire();
  const { manifest } = prepared.model;
  const id = prepared.model.id;
  const target = join(deps.dir, manifest.name, manifest.version);
  if (existsSync(join(target, 'manifest.json'))) {
    let same = false;
    try {
      same = verifyModelDir(target, deps.trustedKeys).manifest.sha256 === manifest.sha256;
    } catch {
      same = false;
    }
    if (!same) {
      throw new ModelRejectedError(
        'install',
        id,
        `${target} already holds another build of ${id}; publish a new version`,
      );
    }
    return { model: id, dir: target, alreadyInstalled: true };
  }
  mkdirSync(join(deps.dir, manifest.name), { recursive: true });
  const staging = mkdtempSync(join(deps.dir, manifest.name, `.${manifest.version}.`));
  try {
    const files = ['manifest.json', manifest.file, ...(manifest.golden ? [manifest.golden.file] : [])];
    for (const f of files) copyFileSync(join(src, f), join(staging, f));
    verifyModelDir(staging, deps.trustedKeys); // what was written, not only what was read
    chmodSync(staging, 0o755); // mkdtemp makes it private
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  deps.store.recordInstall({
    name: manifest.name,
    version: manifest.version,
    dir: target,
    sha256: manifest.sha256,
    keyId: prepared.keyId,
    installedMs: deps.now(),
  });
  return { model: id, dir: target, alreadyInstalled: false };
}
