import { FAILURE_REASONS, type FailureReason, type ParseFailure, SEQ_MODULO, type SerialMessage } from './protocol.ts';

export interface SerialCounts {
  readonly linesOk: number;
  readonly malformed: number;
  readonly malformedByReason: Readonly<Record<FailureReason, number>>;
  /** Times `seq` did not follow the previous good line's: each is one or more lost lines. */
  readonly seqGaps: number;
}

/** The line statistics a live link and a replay both keep, so a replayed session reports what the live one did. */
export class SerialCounters {
  private linesOk = 0;
  private seqGaps = 0;
  private readonly byReason = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>;
  private lastSeq: number | null = null;

  count(result: SerialMessage | ParseFailure): void {
    if (result.type === 'malformed') {
      this.byReason[result.reason]++;
      return;
    }
    this.linesOk++;
    if (this.lastSeq !== null && result.seq !== (this.lastSeq + 1) % SEQ_MODULO) this.seqGaps++;
    this.lastSeq = result.seq;
  }

  snapshot(): SerialCounts {
    const malformedByReason = { ...this.byReason };
    const malformed = Object.values(malformedByReason).reduce((a, b) => a + b, 0);
    return { linesOk: this.linesOk, malformed, malformedByReason, seqGaps: this.seqGaps };
  }
}
