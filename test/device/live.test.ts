import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { formatLine } from '../../device/serial/protocol.ts';
import { exitOf, glance, OPENCV_DATA, SAMPLE, startDaemon, tmp } from '../helpers/cli.ts';
import { closePort, PtyPair, writeAll } from './serial/pty-pair.ts';

interface Summary {
  sessionId: string;
  frames: Record<string, { read: number; processed: number; dropped: number }>;
  records: Record<string, number>;
  serial?: { linesOk: number; malformed: number };
  stoppedBy: string;
}

/**
 * Live mode with what can exist here: OpenCV reading real video files as the cameras (a file that ends is a
 * camera that went away, and is reopened), and a socat pseudo-terminal pair as the frame's microcontroller.
 */
describe('glance run on live sources', () => {
  const dir = tmp();
  const pty = new PtyPair(dir);
  afterAll(() => pty.stop());

  it('reads cameras and the serial port, records a replayable session, and stops cleanly on SIGTERM', async () => {
    await pty.start();
    const record = join(dir, 'recorded');
    const config = join(dir, 'live.yaml');
    writeFileSync(
      config,
      [
        `device: { id: live-test, dataDir: ${dir} }`,
        'source:',
        '  type: live',
        `  record: ${record}`,
        '  cameras:',
        `    eye0: { uri: ${join(SAMPLE, 'eye0.mp4')}, fps: 120 }`,
        `    scene: { uri: ${join(OPENCV_DATA, 'vtest.avi')}, fps: 10 }`,
        `serial: { port: ${pty.b} }`,
      ].join('\n'),
    );
    const db = join(dir, 'live.db');
    const summaryFile = join(dir, 'summary.json');
    const { child, stderr } = await startDaemon(['run', '--config', config, '--db', db, '--summary', summaryFile]);
    const device = await pty.openDevice();
    // Let the link open the port, then talk to it as the microcontroller would.
    await new Promise((r) => setTimeout(r, 1000));
    for (let seq = 0; seq < 50; seq++) {
      await writeAll(device, `${formatLine({ type: 'temperature', seq, celsius: 40 + seq / 10 })}\r\n`);
      await writeAll(device, 'garbage without a checksum\n');
    }
    await new Promise((r) => setTimeout(r, 2000));
    await closePort(device);
    child.kill('SIGTERM');
    expect(await exitOf(child), stderr()).toBe(0);

    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
    expect(s.stoppedBy).toBe('signal');
    expect(s.frames.eye0?.processed).toBeGreaterThan(50);
    expect(s.frames.scene?.processed).toBeGreaterThan(5);
    expect(s.serial).toMatchObject({ linesOk: 50, malformed: 50 });
    const sqlite = new Database(db, { readonly: true });
    expect(sqlite.prepare("SELECT COUNT(*) FROM telemetry WHERE kind = 'temperature'").pluck().get()).toBe(50);
    expect(sqlite.prepare('SELECT COUNT(*) FROM frames').pluck().get()).toBe(
      (s.frames.eye0?.processed ?? 0) + (s.frames.scene?.processed ?? 0),
    );
    expect(sqlite.prepare('SELECT state FROM sessions').pluck().get()).toBe('completed');
    sqlite.close();

    // The recording is a complete session: the replay of it sees its frames and its serial lines, garbage too.
    const recorded = JSON.parse(readFileSync(join(record, 'session.json'), 'utf8')) as {
      complete: boolean;
      streams: Record<string, { frames: number; width: number }>;
    };
    expect(recorded.complete).toBe(true);
    expect(recorded.streams.scene?.width).toBe(768);
    const replaySummary = join(dir, 'replay.json');
    const r = glance(['run', '--replay', record, '--once', '--db', join(dir, 'replay.db'), '--summary', replaySummary]);
    expect(r.status, r.stderr).toBe(0);
    const rs = JSON.parse(readFileSync(replaySummary, 'utf8')) as Summary;
    expect(rs.frames.eye0?.read).toBe(recorded.streams.eye0?.frames);
    expect(rs.frames.scene?.read).toBe(recorded.streams.scene?.frames);
    expect(rs.serial).toMatchObject({ linesOk: 50, malformed: 50 });
  });

  it('keeps the other streams running when one camera is missing, and reports it', async () => {
    const config = join(dir, 'missing.yaml');
    writeFileSync(
      config,
      [
        'source:',
        '  type: live',
        '  retry: { initialMs: 50, maxMs: 200 }',
        '  cameras:',
        `    eye0: { uri: ${join(dir, 'no-such-camera.mp4')} }`,
        `    scene: { uri: ${join(OPENCV_DATA, 'vtest.avi')} }`,
      ].join('\n'),
    );
    const summaryFile = join(dir, 'missing-summary.json');
    const { child } = await startDaemon([
      'run',
      '--config',
      config,
      '--db',
      join(dir, 'm.db'),
      '--summary',
      summaryFile,
    ]);
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary & {
      cameras: Array<{ stream: string; state: string; failures: number; lastError?: string }>;
    };
    expect(s.frames.scene?.processed).toBeGreaterThan(10);
    const eye = s.cameras.find((c) => c.stream === 'eye0');
    expect(eye?.failures).toBeGreaterThan(0);
    expect(eye?.lastError).toContain('no-such-camera.mp4');
  });
});
