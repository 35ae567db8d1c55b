import type { BatchWriter } from '../../storage/batch-writer.ts';
import type { TelemetryRow } from '../../storage/telemetry.ts';
import type { SerialMessage } from './protocol.ts';

/** A message as a `telemetry` row: `kind` is the message type, `payload` its fields without `type` and `seq`. */
export function telemetryRowOf(sessionId: string, msg: SerialMessage, tNs: bigint): TelemetryRow {
  const { type, seq, ...payload } = msg;
  return { sessionId, tNs, kind: type, seq, payload };
}

/**
 * The glue between a serial link (or a replay) and `telemetryWriter`: rows are batched by the writer, so the
 * caller flushes it on a timer and at the end of the session. The session's row must exist first (foreign key).
 */
export function telemetrySink(
  writer: Pick<BatchWriter<TelemetryRow>, 'add'>,
  sessionId: string,
): (msg: SerialMessage, tNs: bigint) => void {
  return (msg, tNs) => writer.add(telemetryRowOf(sessionId, msg, tNs));
}
