import type { ModelRegistry } from '../models/registry.ts';
import type { CaptureState } from '../pipelines/snippets/capture-state.ts';
import type { Db } from '../storage/db.ts';
import { FaceRepository, type PersonRow } from '../storage/faces.ts';
import type { CommandEffects } from '../sync/index.ts';

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
  /** People live in the database, their crops under the data directory. */
  readonly db: Db;
  readonly dataDir: string;
}

const view = (p: PersonRow) => ({ id: p.id, name: p.name, enrolled: p.enrolled, tracks: p.tracks });

export function commandEffects(deps: EffectDeps): CommandEffects {
  const unavailable = (what: string) => () => {
    throw new Error(`${what} is not available in this build of the daemon`);
  };
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
    label: unavailable('labelling'),
    // Activates a version already in the models directory (put there by `glance flash`), through the
    // registry's checks: a refused model leaves the serving one in place, and the reply says why.
    installModel: async ({ name, version }) => {
      const outcome = await (await deps.models()).activate(name, version);
      return outcome.ok ? { activated: true } : { activated: false, reason: `${outcome.stage}: ${outcome.reason}` };
    },
    rollbackModel: async ({ name }) => {
      const outcome = await (await deps.models()).rollback(name);
      if (!outcome.ok) throw new Error(`${outcome.stage}: ${outcome.reason}`);
      const [, version = ''] = outcome.model.split('@');
      return { name, version };
    },
  };
}
