import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LiveFeed } from './cameras/live-feed.ts';
import type { Config } from './config.ts';
import { BadInputError } from './errors.ts';
import type { FrameFeed } from './feed.ts';
import type { Logger } from './logger.ts';
import { SerialLink } from './serial/link.ts';
import type { SerialMessage } from './serial/protocol.ts';
import { SerialLogReplay } from './serial/replay.ts';
import { SerialReplayFeed } from './serial/replay-feed.ts';
import { LiveRecording } from './session/live-recording.ts';
import { SessionRecorder } from './session/recorder.ts';
import { SessionReplay } from './session/replay.ts';

/** The frames, the serial messages and (live) the recording: everything the daemon reads from the world. */
export interface Inputs {
  readonly feed: FrameFeed;
  /** Replay: serial lines are delivered in time with the frames, through `until(tNs)`. */
  readonly serialReplay?: SerialReplayFeed;
  readonly serialLink?: SerialLink;
  readonly recording?: LiveRecording;
  readonly sessionName: string;
}

export type SerialDelivery = (msg: SerialMessage, tNs: bigint, raw?: string) => void;

/** Opens the configured source. Bad input (a missing session, a busy recording folder) throws before any write. */
export function openInputs(config: Config, logger: Logger, deliver: SerialDelivery): Inputs {
  const source = config.source;
  if (source.type === 'replay') {
    const feed = new SessionReplay(resolve(source.session), source.pace);
    const serial = feed.manifest.serial;
    return {
      feed,
      sessionName: feed.manifest.id,
      ...(serial === undefined
        ? {}
        : { serialReplay: new SerialReplayFeed(new SerialLogReplay(join(feed.dir, serial)), deliver) }),
    };
  }
  if (source.record && existsSync(join(source.record, 'session.json'))) {
    throw new BadInputError(`source.record: ${source.record} already holds a session; choose an empty folder`);
  }
  const feed = new LiveFeed({
    cameras: source.cameras,
    queueDepth: config.pipeline.queueDepth,
    backoff: { initialDelayMs: source.retry.initialMs, maxDelayMs: source.retry.maxMs },
    logger,
  });
  const recording = source.record
    ? new LiveRecording(
        (o) => SessionRecorder.start(o),
        { dir: resolve(source.record), id: `live-${Date.now()}`, device: config.device.id },
        feed.streams,
        Object.fromEntries(Object.entries(source.cameras).map(([s, c]) => [s, c?.fps])),
      )
    : undefined;
  const serialLink = config.serial
    ? new SerialLink({
        path: config.serial.port,
        baudRate: config.serial.baudRate,
        logger,
        listener: {
          onMessage: (msg, tNs, raw) => {
            recording?.onSerialLine(tNs, raw);
            deliver(msg, tNs, raw);
          },
          // The recording keeps what the wire carried, garbage included, so a replay sees the same counts.
          onMalformed: (_failure, tNs, raw) => recording?.onSerialLine(tNs, raw),
        },
      })
    : undefined;
  return {
    feed,
    sessionName: 'live',
    ...(recording ? { recording } : {}),
    ...(serialLink ? { serialLink } : {}),
  };
}
