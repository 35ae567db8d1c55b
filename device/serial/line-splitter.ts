/**
 * Splits a byte stream into `\n`-terminated lines with a bound on what it holds: a UART at the wrong baud rate
 * can babble for hours without a newline, and a daemon that runs all day must not buffer that.
 */
export interface LineHandler {
  /** A complete line without its `\n` (a preceding `\r` is left for the parser). */
  line(bytes: Buffer): void;
  /** A line grew past the bound; `prefix` is its first `maxBytes` bytes. The rest, to the next `\n`, is dropped. */
  overflow(prefix: Buffer): void;
}

export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly handler: LineHandler,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (this.heldBytes + piece.length > this.maxBytes) {
        this.handler.overflow(this.takeHeld(piece).subarray(0, this.maxBytes));
        continue;
      }
      this.handler.line(this.takeHeld(piece));
    }
    this.hold(chunk.subarray(start));
  }

  /** What arrived after the last `\n` (empty if nothing), forgotten afterwards: the line a disconnect cut off. */
  takePartial(): Buffer {
    const partial = this.discarding ? Buffer.alloc(0) : this.takeHeld(Buffer.alloc(0));
    this.discarding = false;
    this.held = [];
    this.heldBytes = 0;
    return partial;
  }

  private hold(rest: Buffer): void {
    if (rest.length === 0 || this.discarding) return;
    if (this.heldBytes + rest.length > this.maxBytes) {
      this.handler.overflow(this.takeHeld(rest).subarray(0, this.maxBytes));
      this.discarding = true;
      return;
    }
    // Copy: the stream may reuse the chunk's memory for its next read.
    this.held.push(Buffer.from(rest));
    this.heldBytes += rest.length;
  }

  private takeHeld(tail: Buffer): Buffer {
    const out = this.held.length === 0 ? tail : Buffer.concat([...this.held, tail]);
    this.held = [];
    this.heldBytes = 0;
    return out;
  }
}
