import type { ModelsConfig } from './config.ts';
import { ModelRejectedError, messageOf } from './errors.ts';
import { checkIo } from './io-check.ts';
import { ServingModel } from './serving.ts';
import type { ModelLog, SessionOpener } from './session.ts';
import type { TrustedKey } from './signing.ts';
import { verifyModelDir } from './verify.ts';
import { GoldenMismatchError, warmUp } from './warmup.ts';

export interface LoadTimings {
  verifyMs: number;
  sessionMs: number;
  ioMs: number;
  warmupMs: number;
  swapMs: number;
}

export interface PreparedModel {
  readonly model: ServingModel;
  readonly keyId: string;
  readonly sha256: string;
  readonly timings: LoadTimings;
}

export interface LoaderDeps {
  readonly config: ModelsConfig;
  readonly trustedKeys: readonly TrustedKey[];
  readonly openSession: SessionOpener;
  readonly log: ModelLog;
}

/**
 * Everything that must hold before a model may serve, in order: signature and sha256 → onnxruntime session with
 * the configured providers and threads → inputs/outputs as the manifest declares → warm-up runs (and golden
 * outputs). Returns a ready, not yet serving model; throws ModelRejectedError naming the failed step. A session
 * opened here is released again when a later step fails.
 */
export async function prepareModel(
  dir: string,
  deps: LoaderDeps,
  expect?: { name: string; version: string },
): Promise<PreparedModel> {
  const t0 = performance.now();
  const verified = verifyModelDir(dir, deps.trustedKeys);
  const { manifest, id } = verified;
  if (expect && (manifest.name !== expect.name || manifest.version !== expect.version)) {
    throw new ModelRejectedError('manifest', `${expect.name}@${expect.version}`, `directory holds ${id}`);
  }
  const t1 = performance.now();
  let opened: Awaited<ReturnType<SessionOpener>>;
  try {
    opened = await deps.openSession(verified.bytes, deps.config, deps.log);
  } catch (error) {
    throw new ModelRejectedError('session', id, `onnxruntime cannot load model.onnx: ${messageOf(error)}`);
  }
  const t2 = performance.now();
  const model = new ServingModel(manifest, opened.session, opened.providers, dir);
  try {
    const problems = checkIo(opened.session, manifest);
    if (problems.length > 0) throw new ModelRejectedError('io', id, problems.join('; '));
    const t3 = performance.now();
    try {
      await warmUp(opened.session, manifest, verified.golden, deps.config.warmupRuns);
    } catch (error) {
      const stage = error instanceof GoldenMismatchError ? 'golden' : 'warmup';
      throw new ModelRejectedError(stage, id, `warm-up run failed: ${messageOf(error)}`);
    }
    const t4 = performance.now();
    const timings = { verifyMs: t1 - t0, sessionMs: t2 - t1, ioMs: t3 - t2, warmupMs: t4 - t3, swapMs: 0 };
    return { model, keyId: verified.keyId, sha256: manifest.sha256, timings };
  } catch (error) {
    await model.retire();
    throw error;
  }
}
