import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from './config.ts';
import type { Manifest } from './manifest.ts';

/** What every inference returns: the outputs and the `name@version` that produced them, for the record. */
export interface InferenceResult {
  readonly outputs: ort.InferenceSession.ReturnType;
  readonly model: string;
}

/**
 * One loaded model version. Counts the runs in flight so that, once retired by a swap, its session is released
 * only after the last of them has finished: a run that started on a version always ends on it.
 */
export class ServingModel {
  private inFlight = 0;
  private retired = false;
  private releasing: Promise<void> | undefined;
  private drained: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;
  readonly id: string;

  constructor(
    readonly manifest: Manifest,
    readonly session: ort.InferenceSession,
    readonly providers: readonly ExecutionProviderName[],
    readonly dir: string,
  ) {
    this.id = `${manifest.name}@${manifest.version}`;
  }

  get version(): string {
    return this.manifest.version;
  }

  get pending(): number {
    return this.inFlight;
  }

  get isReleased(): boolean {
    return this.releasing !== undefined;
  }

  async run(feeds: ort.InferenceSession.FeedsType): Promise<InferenceResult> {
    if (this.releasing) throw new Error(`${this.id} has been released`);
    this.inFlight++;
    try {
      return { outputs: await this.session.run(feeds), model: this.id };
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.release();
    }
  }

  /** No new runs will be routed here; resolves once in-flight runs are done and the session is released. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.inFlight === 0) return this.release();
    this.drained ??= new Promise((resolve) => {
      this.onDrained = resolve;
    });
    return this.drained;
  }

  private release(): Promise<void> {
    // A failed release leaks one session; it must not surface as an unhandled rejection in the daemon.
    this.releasing ??= this.session
      .release()
      .catch(() => {})
      .finally(() => this.onDrained?.());
    return this.releasing;
  }
}
