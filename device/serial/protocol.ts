/**
 * The glasses' serial line protocol (docs/serial-protocol.md): `$<TYPE>,<seq>,<fields>…*<CS>`.
 * Pure and allocation-light because IMU lines arrive hundreds of times a second; `parseLine` never throws,
 * whatever bytes a noisy UART hands it.
 */

export interface ImuMessage {
  readonly type: 'imu';
  readonly seq: number;
  /** m/s² */
  readonly ax: number;
  readonly ay: number;
  readonly az: number;
  /** rad/s */
  readonly gx: number;
  readonly gy: number;
  readonly gz: number;
}

export interface ButtonMessage {
  readonly type: 'button';
  readonly seq: number;
  readonly id: number;
  readonly state: 'down' | 'up';
}

export interface BatteryMessage {
  readonly type: 'battery';
  readonly seq: number;
  readonly percent: number;
  readonly millivolts: number;
  readonly charging: boolean;
}

export interface TemperatureMessage {
  readonly type: 'temperature';
  readonly seq: number;
  readonly celsius: number;
}

export type SerialMessage = ImuMessage | ButtonMessage | BatteryMessage | TemperatureMessage;

/**
 * Why a line was rejected. `parseLine` returns all but `truncated`, which the link reports for the partial line
 * it holds when the port goes away (a line without its `\n` is not a line, even if its checksum happens to match).
 */
export type FailureReason = 'length' | 'framing' | 'checksum' | 'type' | 'fields' | 'number' | 'range' | 'truncated';

export interface ParseFailure {
  readonly type: 'malformed';
  readonly reason: FailureReason;
}

export const FAILURE_REASONS: readonly FailureReason[] = [
  'length',
  'framing',
  'checksum',
  'type',
  'fields',
  'number',
  'range',
  'truncated',
];

/** Longest accepted line in bytes, not counting the line ending. */
export const MAX_LINE_BYTES = 256;
export const SEQ_MODULO = 0x1_0000;

const TAGS = { imu: 'IMU', button: 'BTN', battery: 'BAT', temperature: 'TMP' } as const;
// Parts of the comma-split body: the tag, seq, then the fields of docs/serial-protocol.md.
const FIELD_COUNTS = { IMU: 8, BTN: 4, BAT: 5, TMP: 3 } as const;

// Strict shapes: Number() alone would accept '', ' 1', '0x1f', 'Infinity'.
const INTEGER = /^\d+$/;
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,3})?$/;

const FAILURES: { readonly [R in FailureReason]: ParseFailure } = {
  length: { type: 'malformed', reason: 'length' },
  framing: { type: 'malformed', reason: 'framing' },
  checksum: { type: 'malformed', reason: 'checksum' },
  type: { type: 'malformed', reason: 'type' },
  fields: { type: 'malformed', reason: 'fields' },
  number: { type: 'malformed', reason: 'number' },
  range: { type: 'malformed', reason: 'range' },
  truncated: { type: 'malformed', reason: 'truncated' },
};

export function failure(reason: FailureReason): ParseFailure {
  return FAILURES[reason];
}

export function isFailure(result: SerialMessage | ParseFailure): result is ParseFailure {
  return result.type === 'malformed';
}

/** XOR of the character codes of `body` (the text between `$` and `*`). */
export function checksum(body: string): number {
  let cs = 0;
  for (let i = 0; i < body.length; i++) cs ^= body.charCodeAt(i);
  return cs & 0xff;
}

/** The line for `msg` without its line ending; a writer appends `\r\n`. */
export function formatLine(msg: SerialMessage): string {
  const body = `${TAGS[msg.type]},${msg.seq},${fieldsOf(msg).join(',')}`;
  return `$${body}*${hex2(checksum(body))}`;
}

/** Parses one line; a trailing `\n` or `\r\n` is allowed, as is a line already stripped of it. */
export function parseLine(raw: string): SerialMessage | ParseFailure {
  let end = raw.length;
  if (end > 0 && raw.charCodeAt(end - 1) === 0x0a) end--;
  if (end > 0 && raw.charCodeAt(end - 1) === 0x0d) end--;
  if (end > MAX_LINE_BYTES) return FAILURES.length;
  // Printable ASCII only: it also makes a string's length its byte count, whatever decoding produced it.
  for (let i = 0; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return FAILURES.framing;
  }
  const star = end - 3;
  if (star < 1 || raw.charCodeAt(0) !== 0x24 || raw.charCodeAt(star) !== 0x2a) return FAILURES.framing;
  const expected = hexByte(raw.charCodeAt(star + 1), raw.charCodeAt(star + 2));
  if (expected < 0) return FAILURES.framing;
  const body = raw.slice(1, star);
  if (body.includes('*') || body.includes('$')) return FAILURES.framing;
  if (checksum(body) !== expected) return FAILURES.checksum;
  return parseBody(body.split(','));
}

function parseBody(parts: string[]): SerialMessage | ParseFailure {
  const tag = parts[0] ?? '';
  if (!Object.hasOwn(FIELD_COUNTS, tag)) return FAILURES.type;
  const kind = tag as keyof typeof FIELD_COUNTS;
  if (parts.length !== FIELD_COUNTS[kind]) return FAILURES.fields;
  const seq = integer(parts[1]);
  if (typeof seq !== 'number') return seq;
  if (seq >= SEQ_MODULO) return FAILURES.range;
  switch (kind) {
    case 'IMU':
      return parseImu(seq, parts);
    case 'BTN':
      return parseButton(seq, parts);
    case 'BAT':
      return parseBattery(seq, parts);
    case 'TMP': {
      const celsius = float(parts[2]);
      return typeof celsius === 'number' ? { type: 'temperature', seq, celsius } : celsius;
    }
  }
}

function parseImu(seq: number, parts: string[]): ImuMessage | ParseFailure {
  const v: number[] = [];
  for (let i = 2; i < 8; i++) {
    const n = float(parts[i]);
    if (typeof n !== 'number') return n;
    v.push(n);
  }
  const [ax = 0, ay = 0, az = 0, gx = 0, gy = 0, gz = 0] = v;
  return { type: 'imu', seq, ax, ay, az, gx, gy, gz };
}

function parseButton(seq: number, parts: string[]): ButtonMessage | ParseFailure {
  const id = integer(parts[2]);
  if (typeof id !== 'number') return id;
  const state = parts[3];
  if (id > 7 || (state !== 'down' && state !== 'up')) return FAILURES.range;
  return { type: 'button', seq, id, state };
}

function parseBattery(seq: number, parts: string[]): BatteryMessage | ParseFailure {
  const percent = integer(parts[2]);
  if (typeof percent !== 'number') return percent;
  const millivolts = integer(parts[3]);
  if (typeof millivolts !== 'number') return millivolts;
  const charging = integer(parts[4]);
  if (typeof charging !== 'number') return charging;
  if (percent > 100 || charging > 1) return FAILURES.range;
  return { type: 'battery', seq, percent, millivolts, charging: charging === 1 };
}

function integer(text: string | undefined): number | ParseFailure {
  if (text === undefined || !INTEGER.test(text)) return FAILURES.number;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : FAILURES.range;
}

function float(text: string | undefined): number | ParseFailure {
  if (text === undefined || !FLOAT.test(text)) return FAILURES.number;
  const n = Number(text);
  return Number.isFinite(n) ? n : FAILURES.range;
}

function fieldsOf(msg: SerialMessage): (number | string)[] {
  switch (msg.type) {
    case 'imu':
      return [msg.ax, msg.ay, msg.az, msg.gx, msg.gy, msg.gz];
    case 'button':
      return [msg.id, msg.state];
    case 'battery':
      return [msg.percent, msg.millivolts, msg.charging ? 1 : 0];
    case 'temperature':
      return [msg.celsius];
  }
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** Two upper-case hex digits as a byte, or -1. */
function hexByte(hi: number, lo: number): number {
  const h = hexDigit(hi);
  const l = hexDigit(lo);
  return h < 0 || l < 0 ? -1 : (h << 4) | l;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
