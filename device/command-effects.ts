import type { CaptureState } from '../pipelines/snippets/capture-state.ts';
import type { CommandEffects } from '../sync/index.ts';

/**
 * What the phone's commands do to this daemon. Commands whose capability is not in this build answer with an
 * error that says so, rather than pretending to succeed.
 */
export function commandEffects(deps: { readonly capture: CaptureState }): CommandEffects {
  const unavailable = (what: string) => () => {
    throw new Error(`${what} is not available in this build of the daemon`);
  };
  return {
    pause: () => deps.capture.pause(),
    resume: () => deps.capture.resume(),
    calibrate: unavailable('calibration from the phone'),
    label: unavailable('labelling'),
    installModel: unavailable('model installation over the air'),
    rollbackModel: unavailable('model rollback over the air'),
  };
}
