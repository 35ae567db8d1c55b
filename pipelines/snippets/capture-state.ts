import type { DeviceState } from '../../storage/device-state.ts';

export type CaptureMode = 'recording' | 'paused';

export interface CaptureStatus {
  readonly mode: CaptureMode;
  /** Why recording is not happening even though the wearer did not pause it (disk full, state unreadable). */
  readonly blockedBy: string | null;
}

/**
 * Whether the wearer allows capture. The wearer's choice is durable (a pause survives a restart), and the
 * recorder fails closed: if the state cannot be read, nothing is recorded.
 */
export class CaptureState {
  private blocked: string | null = null;

  constructor(
    private readonly store: Pick<DeviceState, 'get' | 'set'>,
    private readonly defaultMode: CaptureMode = 'recording',
  ) {}

  pause(): void {
    this.store.set('capture', 'paused');
  }

  resume(): void {
    this.store.set('capture', 'recording');
  }

  /** Set by the recorder or retention when something other than the wearer stops recording. */
  block(reason: string | null): void {
    this.blocked = reason;
  }

  status(): CaptureStatus {
    let mode: CaptureMode;
    try {
      const stored = this.store.get('capture');
      mode = stored === undefined ? this.defaultMode : stored === 'recording' ? 'recording' : 'paused';
    } catch (error) {
      return { mode: 'paused', blockedBy: `capture state unreadable: ${(error as Error).message}` };
    }
    return { mode, blockedBy: this.blocked };
  }

  /** True only when the wearer allows capture, the state was confirmed just now, and nothing blocks it. */
  allowed(): boolean {
    const s = this.status();
    return s.mode === 'recording' && s.blockedBy === null;
  }
}
