import { describe, expect, it } from 'vitest';
import { checksum, formatLine, parseLine, type SerialMessage } from '../../../device/serial/protocol.ts';

/** A line with a correct checksum around any body, to reach the checks that come after the checksum. */
function framed(body: string): string {
  return `$${body}*${checksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

describe('parseLine', () => {
  it('parses the examples of docs/serial-protocol.md', () => {
    expect(parseLine('$IMU,17,0.012,-9.806,0.104,0.0012,-0.0003,0.0100*4B')).toEqual({
      type: 'imu',
      seq: 17,
      ax: 0.012,
      ay: -9.806,
      az: 0.104,
      gx: 0.0012,
      gy: -0.0003,
      gz: 0.01,
    });
    expect(parseLine('$BAT,3,87,3912,0*52')).toEqual({
      type: 'battery',
      seq: 3,
      percent: 87,
      millivolts: 3912,
      charging: false,
    });
  });

  it('accepts \\n and \\r\\n line endings', () => {
    expect(parseLine('$BAT,3,87,3912,0*52\r\n')).toMatchObject({ type: 'battery', seq: 3 });
    expect(parseLine('$BAT,3,87,3912,0*52\n')).toMatchObject({ type: 'battery', seq: 3 });
  });

  const messages: SerialMessage[] = [
    { type: 'imu', seq: 0, ax: 0.5, ay: -9.81, az: 1e-7, gx: 123.25, gy: -0.001, gz: 3 },
    { type: 'button', seq: 65535, id: 7, state: 'down' },
    { type: 'button', seq: 1, id: 0, state: 'up' },
    { type: 'battery', seq: 42, percent: 100, millivolts: 4200, charging: true },
    { type: 'temperature', seq: 9, celsius: -12.5 },
  ];
  it.each(messages)('round-trips $type seq $seq through formatLine', (msg) => {
    expect(parseLine(formatLine(msg))).toEqual(msg);
  });

  it.each([
    ['length', framed(`TMP,1,${'1'.repeat(260)}`)],
    ['framing', 'BAT,3,87,3912,0*52'],
    ['framing', '$BAT,3,87,3912,0'],
    ['framing', '$BAT,3,87,3912,0*52 '],
    ['framing', '$BAT,3,87,3912,0*5'],
    ['framing', '$BAT,3,87,3912,0*52x'],
    ['framing', '$BAT,3,87,3912,0*5g'],
    ['framing', '$IMU,17,0.012,-9.806,0.104,0.0012,-0.0003,0.0100*4b'],
    ['framing', `\u0000${framed('TMP,1,20.5')}`],
    ['framing', ''],
    ['checksum', '$BAT,3,87,3912,0*53'],
    ['checksum', '$BAT,3,87,3912,1*52'],
    ['type', framed('GPS,1,2,3')],
    ['type', framed('bat,3,87,3912,0')],
    ['fields', framed('BAT,3,87,3912')],
    ['fields', framed('IMU,1,1,2,3,4,5,6,7')],
    ['fields', framed('TMP')],
    ['number', framed('TMP,1,abc')],
    ['number', framed('TMP,1,')],
    ['number', framed('TMP,1, 20')],
    ['number', framed('TMP,1,0x1f')],
    ['number', framed('TMP,-1,20')],
    ['number', framed('BAT,3,87.5,3912,0')],
    ['number', framed('IMU,1,1,2,3,4,5,Infinity')],
    ['range', framed('TMP,65536,20')],
    ['range', framed('BTN,1,8,down')],
    ['range', framed('BTN,1,2,pressed')],
    ['range', framed('BAT,3,101,3912,0')],
    ['range', framed('BAT,3,87,3912,2')],
    ['range', framed('TMP,1,1e999')],
  ])('rejects with reason %s: %j', (reason, line) => {
    expect(parseLine(line)).toEqual({ type: 'malformed', reason });
  });

  it('never throws on random input', () => {
    let seed = 12345;
    const next = () => {
      // xorshift32: deterministic, so a failure reproduces.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const alphabet = '$*,.-0123456789ABCDEFIMUBTNATPdownup\r\n';
    let ok = 0;
    for (let i = 0; i < 10_000; i++) {
      const len = next() % 300;
      let s = '';
      for (let j = 0; j < len; j++) {
        // Half the strings from protocol characters (reach the deep checks), half from any UTF-16 code unit.
        s += i % 2 === 0 ? alphabet[next() % alphabet.length] : String.fromCharCode(next() % 0x10000);
      }
      if (i % 4 === 0) s = framed(s.replaceAll('$', '').replaceAll('*', ''));
      const result = parseLine(s);
      expect(typeof result.type).toBe('string');
      if (result.type !== 'malformed') ok++;
    }
    expect(ok).toBeLessThan(10_000);
  });
});
