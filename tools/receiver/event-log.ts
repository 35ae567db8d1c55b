import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import type { EventV1 } from '../../sync/messages.ts';

const datasync = promisify(fdatasync);

/**
 * The phone's store of event records: `events.jsonl`, one record a line, written once per (kind, recordId).
 * The file is also the memory of what was seen: it is read back at start, so a restarted receiver still drops
 * duplicates. A line torn by a crash is cut off; its record was never receipted, so the device sends it again.
 */
export class EventLog {
  private readonly fd: number;
  private readonly seen = new Set<string>();
  private buffered: string[] = [];
  private stored = 0;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'a+');
    this.load();
  }

  /** Records written to the file (those appended since the last `sync()` not yet). */
  get size(): number {
    return this.stored;
  }

  /** Appends the record unless one with the same kind and record id is stored; false for a duplicate. */
  append(event: EventV1, receivedMs = Date.now()): boolean {
    const key = `${event.kind}\u0000${event.recordId}`;
    if (this.seen.has(key)) return false;
    this.buffered.push(`${JSON.stringify({ ...event, receivedMs })}\n`);
    this.seen.add(key);
    return true;
  }

  /**
   * Writes what was appended so far and makes it durable, off the event loop (fdatasync can take milliseconds,
   * during which more records arrive for the next round). Receipts are sent only once this resolves.
   */
  async sync(): Promise<void> {
    if (this.buffered.length === 0) return;
    writeSync(this.fd, this.buffered.join(''));
    this.stored += this.buffered.length;
    this.buffered = [];
    await datasync(this.fd);
  }

  close(): void {
    if (this.buffered.length > 0) writeSync(this.fd, this.buffered.join(''));
    this.stored += this.buffered.length;
    this.buffered = [];
    fdatasyncSync(this.fd);
    closeSync(this.fd);
  }

  private load(): void {
    const text = readFileSync(this.file, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, end)));
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as { kind: string; recordId: string };
      this.seen.add(`${record.kind}\u0000${record.recordId}`);
      this.stored++;
    }
  }
}
