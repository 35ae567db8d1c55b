import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../../device/errors.ts';
import { SerialLogReplay } from '../../../device/serial/replay.ts';

const dir = mkdtempSync(join(tmpdir(), 'glance-serial-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SerialLogReplay', () => {
  it('yields every timestamped line in order through the live parser, counting the rest', async () => {
    const file = join(dir, 'serial.log');
    writeFileSync(
      file,
      [
        '1000 $IMU,17,0.012,-9.806,0.104,0.0012,-0.0003,0.0100*4B',
        '2000 $BAT,18,87,3912,0*68',
        '2500 $BAT,19,87,3912,0*52', // bad checksum
        'no timestamp here',
        '',
        '3000 ', // an empty serial line was received
        '12345678901234567890 $TMP,21,41.5*54',
        '4000 $BTN,22,1,down*57\r', // a log written with CRLF
        '5000 $BAT,3,87,3912,0*52', // last line without its newline
      ].join('\n'),
    );
    const replay = new SerialLogReplay(file);
    const entries = [];
    for await (const entry of replay) entries.push(entry);

    expect(entries.map((e) => e.tNs)).toEqual([1000n, 2000n, 2500n, 3000n, 12345678901234567890n, 4000n, 5000n]);
    expect(entries.map((e) => e.result.type)).toEqual([
      'imu',
      'battery',
      'malformed',
      'malformed',
      'temperature',
      'button',
      'battery',
    ]);
    expect(entries[0]?.raw).toBe('$IMU,17,0.012,-9.806,0.104,0.0012,-0.0003,0.0100*4B');
    expect(entries[5]?.result).toEqual({ type: 'button', seq: 22, id: 1, state: 'down' });
    expect(replay.counts()).toMatchObject({
      linesOk: 5,
      malformed: 2,
      malformedByReason: { checksum: 1, framing: 1 },
      badLogLines: 2,
      // 18 → 21 skips the lost 19 and 20; 22 → 3 is the device restarting its count.
      seqGaps: 2,
    });
  });

  it('throws BadInputError for a missing file', async () => {
    const replay = new SerialLogReplay(join(dir, 'absent.log'));
    await expect(async () => {
      for await (const _ of replay) {
        // draining
      }
    }).rejects.toBeInstanceOf(BadInputError);
  });
});
