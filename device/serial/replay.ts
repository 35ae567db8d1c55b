import { createReadStream } from 'node:fs';
import { BadInputError, messageOf } from '../errors.ts';
import { SerialCounters, type SerialCounts } from './counters.ts';
import { LineSplitter } from './line-splitter.ts';
import { type ParseFailure, parseLine, type SerialMessage } from './protocol.ts';

export interface ReplayedLine {
  /** Receive time recorded with the line (device monotonic clock, ns). */
  readonly tNs: bigint;
  readonly raw: string;
  readonly result: SerialMessage | ParseFailure;
}

export interface SerialLogCounts extends SerialCounts {
  /** Lines of the log itself without a `<tNs> ` prefix: skipped, since they carry no time to replay at. */
  readonly badLogLines: number;
}

// One space after the timestamp; everything after it, even nothing, is the raw serial line.
const LOG_LINE = /^(\d{1,20}) (.*)$/s;
// A valid serial line is at most 256 bytes; this leaves room for the timestamp and for overlong junk as recorded.
const MAX_LOG_LINE_BYTES = 64 * 1024;

/**
 * Reads a session's `serial.log` (`<tNs> <raw>` a line) in file order, streaming, and runs each raw line through
 * the same `parseLine` as the live link, so a replayed session sees what the live one saw.
 *
 * ```ts
 * const replay = new SerialLogReplay(join(sessionDir, 'serial.log'));
 * for await (const { tNs, result } of replay) if (result.type !== 'malformed') sink(result, tNs);
 * replay.counts(); // { linesOk, malformed, malformedByReason, seqGaps, badLogLines }
 * ```
 * A missing or unreadable file throws `BadInputError` from the first iteration.
 */
export class SerialLogReplay implements AsyncIterable<ReplayedLine> {
  private readonly counters = new SerialCounters();
  private badLogLines = 0;

  constructor(private readonly file: string) {}

  counts(): SerialLogCounts {
    return { ...this.counters.snapshot(), badLogLines: this.badLogLines };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ReplayedLine> {
    const ready: string[] = [];
    const splitter = new LineSplitter(MAX_LOG_LINE_BYTES, {
      line: (bytes) => ready.push(bytes.toString('utf8')),
      overflow: () => this.badLogLines++,
    });
    for await (const chunk of this.chunks()) {
      splitter.push(chunk);
      for (const line of ready.splice(0)) {
        const entry = this.entry(line);
        if (entry) yield entry;
      }
    }
    // The log's last line may lack its newline if the recorder was stopped mid-write; its content decides.
    const tail = splitter.takePartial();
    if (tail.length > 0) {
      const entry = this.entry(tail.toString('utf8'));
      if (entry) yield entry;
    }
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const stream = createReadStream(this.file);
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (error) {
      throw new BadInputError(`serial log ${this.file} is not readable: ${messageOf(error)}`);
    } finally {
      stream.destroy();
    }
  }

  private entry(line: string): ReplayedLine | null {
    const match = LOG_LINE.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (!match) {
      this.badLogLines++;
      return null;
    }
    const raw = match[2] ?? '';
    const result = parseLine(raw);
    this.counters.count(result);
    return { tNs: BigInt(match[1] ?? '0'), raw, result };
  }
}
