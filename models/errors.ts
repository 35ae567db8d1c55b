/** The step of loading at which a model was refused: the first one that failed. */
export type RejectStage =
  | 'manifest'
  | 'signature'
  | 'sha256'
  | 'golden'
  | 'session'
  | 'io'
  | 'warmup'
  | 'install'
  | 'rollback';

/**
 * A model the device will not serve, and why. A refusal never touches the model that is serving: the registry
 * records the reason (history and `status()`) and carries on with the old one.
 */
export class ModelRejectedError extends Error {
  override readonly name = 'ModelRejectedError';
  constructor(
    readonly stage: RejectStage,
    readonly model: string,
    readonly reason: string,
  ) {
    super(`${model} refused at ${stage}: ${reason}`);
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
