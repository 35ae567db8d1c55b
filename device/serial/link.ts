import { SerialPort } from 'serialport';
import { BadInputError, messageOf } from '../errors.ts';
import { SerialCounters, type SerialCounts } from './counters.ts';
import { LineSplitter } from './line-splitter.ts';
import { failure, type ParseFailure, parseLine, type SerialMessage } from './protocol.ts';

export type LinkStatus = 'opening' | 'open' | 'reconnecting' | 'closed';

/**
 * What the link hands on. `raw` is the line as received (decoded byte for byte as latin1), without its `\n`,
 * so a recorder can write `serial.log`; `tNs` is `process.hrtime.bigint()` when the bytes arrived.
 */
export interface SerialListener {
  onMessage(msg: SerialMessage, tNs: bigint, raw: string): void;
  onMalformed?(failure: ParseFailure, tNs: bigint, raw: string): void;
  onStatus?(status: LinkStatus): void;
}

/** The part of a pino logger the link uses. */
export interface SerialLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface SerialLinkOptions {
  readonly path: string;
  readonly baudRate?: number;
  readonly listener: SerialListener;
  readonly logger: SerialLogger;
  /** Delay before the first reopen attempt, doubled per failed attempt up to `maxMs`. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
}

export interface SerialLinkStats extends SerialCounts {
  readonly status: LinkStatus;
  /** Successful opens after the first: how often the device came back. */
  readonly reopens: number;
  /** Exceptions thrown by the listener; the link keeps reading, since losing the port would lose more. */
  readonly listenerErrors: number;
}

// Longer than any valid line (256) so an overlong line still reaches the parser, and the recorder, whole.
const MAX_HELD_BYTES = 1024;
const DEFAULT_RETRY = { firstMs: 100, maxMs: 5_000 };

/**
 * Reads the frame's microcontroller over a serial port. When the port vanishes (cable out, USB reset) or cannot
 * be opened, it reports `reconnecting` and keeps trying with backoff until `close()`, so replugging the glasses
 * needs no restart of the daemon.
 */
export class SerialLink {
  private port: SerialPort | null = null;
  private opening: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private state: LinkStatus = 'opening';
  private stopping = false;
  // Reopen attempts scheduled in the current outage; drives the backoff.
  private retries = 0;
  private opens = 0;
  private listenerErrors = 0;
  private chunkTNs = 0n;
  private readonly counters = new SerialCounters();
  private readonly splitter: LineSplitter;
  private readonly baudRate: number;
  private readonly retry: { readonly firstMs: number; readonly maxMs: number };

  constructor(private readonly options: SerialLinkOptions) {
    if (options.path.trim() === '') throw new BadInputError('serial: port path is empty');
    this.baudRate = options.baudRate ?? 115_200;
    if (!Number.isInteger(this.baudRate) || this.baudRate <= 0) {
      throw new BadInputError(`serial: baud rate must be a positive integer, got ${options.baudRate}`);
    }
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.splitter = new LineSplitter(MAX_HELD_BYTES, {
      line: (bytes) => this.receiveLine(bytes.toString('latin1')),
      overflow: (prefix) => this.reject(failure('length'), prefix.toString('latin1')),
    });
  }

  /** Starts opening the port; the outcome arrives through `onStatus`. Absence of the device is not an error. */
  start(): void {
    if (this.stopping || this.opening || this.port || this.timer) return;
    this.attemptOpen();
  }

  get status(): LinkStatus {
    return this.state;
  }

  stats(): SerialLinkStats {
    return {
      ...this.counters.snapshot(),
      status: this.state,
      reopens: Math.max(0, this.opens - 1),
      listenerErrors: this.listenerErrors,
    };
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.opening;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.flushPartial();
    this.setStatus('closed');
  }

  private attemptOpen(): void {
    this.timer = null;
    const port = new SerialPort({ path: this.options.path, baudRate: this.baudRate, autoOpen: false });
    port.on('data', (chunk: Buffer) => {
      this.chunkTNs = process.hrtime.bigint();
      this.splitter.push(chunk);
    });
    port.on('close', (error: Error | null) => this.onClosed(port, error));
    // Without a listener an 'error' event would be thrown; the port's failures all reach 'close' or open's callback.
    port.on('error', (error: Error) =>
      this.options.logger.warn({ path: this.options.path, err: messageOf(error) }, 'serial port error'),
    );
    this.opening = new Promise<void>((resolve) => {
      port.open((error) => {
        this.opening = null;
        if (error) {
          this.onOpenFailed(error);
          resolve();
        } else if (this.stopping) {
          port.close(() => resolve());
        } else {
          this.onOpened(port);
          resolve();
        }
      });
    });
  }

  private onOpened(port: SerialPort): void {
    this.port = port;
    this.opens++;
    this.options.logger.info(
      { path: this.options.path, baudRate: this.baudRate, retries: this.retries },
      this.opens === 1 ? 'serial port open' : 'serial port reopened',
    );
    this.retries = 0;
    this.setStatus('open');
  }

  private onOpenFailed(error: Error): void {
    if (this.stopping) return;
    if (this.retries === 0) {
      this.options.logger.warn({ path: this.options.path, err: messageOf(error) }, 'serial port unavailable; retrying');
    }
    this.setStatus('reconnecting');
    this.scheduleOpen();
  }

  private onClosed(port: SerialPort, error: Error | null): void {
    if (port !== this.port) return;
    this.port = null;
    this.flushPartial();
    if (this.stopping) return;
    this.options.logger.warn(
      { path: this.options.path, err: error ? messageOf(error) : 'closed' },
      'serial port lost; reconnecting',
    );
    this.setStatus('reconnecting');
    this.scheduleOpen();
  }

  private scheduleOpen(): void {
    const delay = Math.min(this.retry.maxMs, this.retry.firstMs * 2 ** Math.min(this.retries, 20));
    this.retries++;
    this.timer = setTimeout(() => this.attemptOpen(), delay);
  }

  /** A line cut off by a disconnect or close never got its `\n`: count it rather than guess at it. */
  private flushPartial(): void {
    const partial = this.splitter.takePartial();
    if (partial.length > 0) this.reject(failure('truncated'), partial.toString('latin1'));
  }

  private receiveLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const result = parseLine(line);
    if (result.type === 'malformed') {
      this.reject(result, line);
      return;
    }
    this.counters.count(result);
    this.deliver(() => this.options.listener.onMessage(result, this.chunkTNs, line));
  }

  private reject(result: ParseFailure, raw: string): void {
    this.counters.count(result);
    const onMalformed = this.options.listener.onMalformed;
    if (onMalformed) this.deliver(() => onMalformed.call(this.options.listener, result, this.chunkTNs, raw));
  }

  private deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.listenerErrors++;
      if (this.listenerErrors === 1 || this.listenerErrors % 1000 === 0) {
        this.options.logger.warn({ err: messageOf(error), count: this.listenerErrors }, 'serial listener failed');
      }
    }
  }

  private setStatus(status: LinkStatus): void {
    if (status === this.state) return;
    this.state = status;
    this.deliver(() => this.options.listener.onStatus?.(status));
  }
}
