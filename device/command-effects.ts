import { ModelRejectedError } from '../models/errors.ts';
import type { ModelRegistry } from '../models/registry.ts';
import { LabelAnswerRejected, type LabelService } from '../pipelines/labels/label-service.ts';
import { PersonalHeadRollbackRefused, PersonalHeadUpdates } from '../pipelines/labels/personal-head-updates.ts';
import type { CaptureState } from '../pipelines/snippets/capture-state.ts';
import type { Db } from '../storage/db.ts';
import { FaceRepository, type PersonRow } from '../storage/faces.ts';
import { type CommandEffects, InvalidRequestError, type OtaInstaller } from '../sync/index.ts';

/**
 * What the phone's commands do to this daemon. Commands whose capability is not in this build answer with an
 * error that says so, rather than pretending to succeed.
 */
export interface EffectDeps {
  readonly capture: CaptureState;
  /** The model registry, opened on first use. */
  readonly models: () => Promise<ModelRegistry>;
  /** Starts a marker calibration in the running eye tracker; undefined when eye tracking is off. */
  readonly recalibrate: (() => void) | undefined;
  readonly sessionId: string;
  /** The active-learning label queue; undefined when `labels.enabled` is false. */
  readonly labels?: LabelService | undefined;
  /** People live in the database, their crops under the data directory. */
  readonly db: Db;
  readonly dataDir: string;
  /** The model whose personal head `personal-head/rollback` rolls back when the phone names none. */
  readonly emotionModel?: string;
}

const view = (p: PersonRow) => ({ id: p.id, name: p.name, enrolled: p.enrolled, tracks: p.tracks });

export function commandEffects(deps: EffectDeps): CommandEffects {
  const people = new FaceRepository(deps.db, deps.dataDir);
  return {
    namePerson: ({ personId, name, enrolled }) => view(people.name(personId, name, enrolled)),
    mergePeople: ({ into, from }) => view(people.merge(into, from)),
    splitPerson: ({ personId, faceIds }) => view(people.split(personId, faceIds)),
    forgetPerson: ({ personId }) => people.forget(personId),
    pause: () => deps.capture.pause(),
    resume: () => deps.capture.resume(),
    calibrate: () => {
      if (!deps.recalibrate) throw new Error('eye tracking is off in this configuration');
      deps.recalibrate();
      return { sessionId: deps.sessionId };
    },
    label: (answer) => {
      if (!deps.labels) throw new Error('labelling is off in this configuration (labels.enabled: false)');
      try {
        return deps.labels.answer(answer);
      } catch (error) {
        // An answer to nothing we asked, a second answer, an answer we did not offer: refused, nothing stored.
        if (error instanceof LabelAnswerRejected) throw new InvalidRequestError(error.message);
        throw error;
      }
    },
    // Activates a version already in the models directory (put there by `glance flash`), through the
    // registry's checks: a refused model leaves the serving one in place, and the reply says why.
    installModel: async ({ name, version }) => {
      const outcome = await (await deps.models()).activate(name, version);
      return outcome.ok ? { activated: true } : { activated: false, reason: `${outcome.stage}: ${outcome.reason}` };
    },
    rollbackPersonalHead: ({ model }) => {
      const name = model ?? deps.emotionModel;
      if (!name) throw new InvalidRequestError('name the model whose personal head to roll back');
      try {
        return new PersonalHeadUpdates(deps.db, { every: 0 }).rollback(name);
      } catch (error) {
        if (error instanceof PersonalHeadRollbackRefused) throw new InvalidRequestError(error.message);
        throw error;
      }
    },
    rollbackModel: async ({ name }) => {
      const outcome = await (await deps.models()).rollback(name);
      if (!outcome.ok) throw new Error(`${outcome.stage}: ${outcome.reason}`);
      const [, version = ''] = outcome.model.split('@');
      return { name, version };
    },
  };
}

/**
 * What a model that arrived over the air goes through: the registry's install (signature and sha256 against the
 * trusted keys, trial session, I/O check, warm-up, copy into the models directory) and then its activation (the
 * same checks again on the installed copy, then the atomic swap). A refusal at either step leaves the serving
 * version in place and says which stage refused and why.
 */
export function otaInstaller(models: () => Promise<ModelRegistry>): OtaInstaller {
  return async (dir) => {
    const registry = await models();
    let installed: string;
    try {
      installed = (await registry.install(dir)).model;
    } catch (error) {
      if (!(error instanceof ModelRejectedError)) throw error;
      const serving = registry.servingModel(error.model.split('@')[0] ?? '')?.id;
      return { ok: false, stage: error.stage, reason: error.reason, ...(serving ? { serving } : {}) };
    }
    const [name = '', version = ''] = installed.split('@');
    const outcome = await registry.activate(name, version);
    if (!outcome.ok) {
      return {
        ok: false,
        stage: outcome.stage,
        reason: outcome.reason,
        ...(outcome.serving ? { serving: outcome.serving } : {}),
      };
    }
    return { ok: true, model: outcome.model, ...(outcome.previous ? { previous: outcome.previous } : {}) };
  };
}
